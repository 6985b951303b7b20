package data

import (
	"math/rand/v2"
	"slices"
)

// pcgStream is the second PCG seed word. Changing it changes every split: don't.
const pcgStream = 0x67616e6f6d616c79 // "ganomaly"

// newRand returns the generator behind every random choice of a load.
func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), pcgStream))
}

// plan is a split expressed as indices into a loader's own numbering of its images.
type plan struct {
	train, validation []int
	// testNormal come first in the test set, then testAnomalous.
	testNormal, testAnomalous []int
	// watch are anomalies taken from the test set to watch training by.
	watch []int
}

// poolNormals is the official seeded protocol for the idx data sets: the normals of both
// files are pooled, shuffled and split 80/20 (int(n·0.8) train, as lib/data.py).
func poolNormals(trainNormals, testNormals []int, rng *rand.Rand) (train, test []int) {
	pool := slices.Concat(trainNormals, testNormals)
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	n := len(pool) * 8 / 10 // equals Python's int(n * 0.80) for every n
	return pool[:n:n], pool[n:]
}

// finish takes the validation split from the train normals and applies the limits.
// trainNormals is shuffled in place.
func finish(trainNormals, testNormal, testAnomalous []int, o Options, rng *rand.Rand) plan {
	rng.Shuffle(len(trainNormals), func(i, j int) {
		trainNormals[i], trainNormals[j] = trainNormals[j], trainNormals[i]
	})
	if o.MaxTrain > 0 && len(trainNormals) > o.MaxTrain {
		trainNormals = trainNormals[:o.MaxTrain]
	}
	nVal := validationCount(len(trainNormals), o.ValidationFraction)
	nTrain := len(trainNormals) - nVal
	p := plan{
		train:      trainNormals[:nTrain:nTrain],
		validation: trainNormals[nTrain:],
	}
	// Drawn only when asked for, so that the splits without it stay as they were.
	if n := min(MaxWatch, int(float64(len(testAnomalous))*o.WatchFraction)); n > 0 && len(testAnomalous) >= minWatchFrom {
		picked := rng.Perm(len(testAnomalous))[:n]
		slices.Sort(picked)
		keep := make([]int, 0, len(testAnomalous)-n)
		for i, idx := range testAnomalous {
			if _, ok := slices.BinarySearch(picked, i); ok {
				p.watch = append(p.watch, idx)
			} else {
				keep = append(keep, idx)
			}
		}
		testAnomalous = keep
	}
	p.testNormal, p.testAnomalous = limitTest(testNormal, testAnomalous, o.MaxTest, rng)
	return p
}

// MaxWatch caps the anomalies set aside to watch training by: enough for a live
// histogram; more would only slow every epoch, which scores them all.
const MaxWatch = 500

// minWatchFrom is the fewest known anomalies some are taken from to watch training by:
// below it, the test needs them all.
const minWatchFrom = 5

// validationCount is floor(n·frac), but at least 1 when frac > 0 and n >= 2, and never
// all n.
func validationCount(n int, frac float64) int {
	if frac <= 0 || n < 2 {
		return 0
	}
	v := int(float64(n) * frac)
	return min(max(v, 1), n-1)
}

// limitTest keeps at most limit test images (all when limit is 0) with the same share of
// anomalies, and at least one of each label where there is one. The images kept are
// drawn at random and keep their relative order.
func limitTest(normal, anomalous []int, limit int, rng *rand.Rand) ([]int, []int) {
	total := len(normal) + len(anomalous)
	if limit <= 0 || total <= limit {
		return normal, anomalous
	}
	nA := int(float64(limit)*float64(len(anomalous))/float64(total) + 0.5)
	if len(anomalous) > 0 {
		nA = max(nA, 1)
	}
	if len(normal) > 0 {
		nA = min(nA, limit-1)
	}
	nA = min(nA, len(anomalous))
	nN := min(limit-nA, len(normal))
	return sample(normal, nN, rng), sample(anomalous, nA, rng)
}

// sample returns k of the elements of s drawn without replacement, in their order in s.
func sample(s []int, k int, rng *rand.Rand) []int {
	pick := rng.Perm(len(s))[:k]
	slices.Sort(pick)
	out := make([]int, k)
	for i, p := range pick {
		out[i] = s[p]
	}
	return out
}

// watchSet builds the anomalies to watch training by, or nil when there are none.
func watchSet(watch []int, build func(normal, anomalous []int) *Set) *Set {
	if len(watch) == 0 {
		return nil
	}
	return build(nil, watch)
}
