package data

import (
	"slices"
	"testing"
)

func seq(from, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = from + i
	}
	return s
}

func TestPoolNormalsEightyTwenty(t *testing.T) {
	// int(n·0.8) as in lib/data.py: MNIST digit 0 pools 63,097 normals.
	for _, c := range []struct{ a, b, train int }{{54077, 9020, 50477}, {5, 0, 4}, {1, 0, 0}, {3, 4, 5}, {9, 1, 8}} {
		train, test := poolNormals(seq(0, c.a), seq(c.a, c.b), newRand(1))
		if len(train) != c.train || len(test) != c.a+c.b-c.train {
			t.Errorf("pool of %d+%d: %d train, %d test; want %d train", c.a, c.b, len(train), len(test), c.train)
		}
		all := slices.Sorted(slices.Values(slices.Concat(train, test)))
		if !slices.Equal(all, seq(0, c.a+c.b)) {
			t.Errorf("pool of %d+%d lost or repeated an index", c.a, c.b)
		}
	}
}

func TestValidationCount(t *testing.T) {
	for _, c := range []struct {
		n    int
		frac float64
		want int
	}{{50477, 0.1, 5047}, {10, 0.1, 1}, {5, 0.1, 1}, {2, 0.1, 1}, {1, 0.1, 0}, {100, 0, 0}, {10, 0.95, 9}, {3, 0.99, 2}} {
		if got := validationCount(c.n, c.frac); got != c.want {
			t.Errorf("validationCount(%d, %v) = %d, want %d", c.n, c.frac, got, c.want)
		}
	}
}

func TestLimitTest(t *testing.T) {
	normal, anomalous := seq(0, 900), seq(900, 100)
	for _, limit := range []int{0, 2, 3, 10, 57, 999, 1000, 5000} {
		n, a := limitTest(normal, anomalous, limit, newRand(2))
		total := len(n) + len(a)
		switch {
		case limit == 0 || limit >= 1000:
			if total != 1000 {
				t.Errorf("limit %d: kept %d of 1000", limit, total)
			}
		case total != limit || len(a) == 0 || len(n) == 0:
			t.Errorf("limit %d: kept %d normal, %d anomalous", limit, len(n), len(a))
		case limit >= 10 && (len(a) < limit/10-1 || len(a) > limit/10+1):
			t.Errorf("limit %d: %d anomalous, want about a tenth", limit, len(a))
		}
		if !slices.IsSorted(n) || !slices.IsSorted(a) {
			t.Errorf("limit %d: order not kept", limit)
		}
	}
	// Too few normals to fill the share: the limit is still not exceeded.
	n, a := limitTest(seq(0, 1), seq(1, 50), 10, newRand(3))
	if len(n) != 1 || len(a) != 9 {
		t.Errorf("1 normal, 50 anomalous, limit 10: kept %d and %d", len(n), len(a))
	}
}

func TestFinishLimitsAndSplits(t *testing.T) {
	o := Options{MaxTrain: 100, ValidationFraction: 0.2, MaxTest: 20}
	p := finish(seq(0, 1000), seq(1000, 300), seq(1300, 100), o, newRand(4))
	if len(p.train) != 80 || len(p.validation) != 20 || len(p.testNormal)+len(p.testAnomalous) != 20 {
		t.Errorf("train %d, validation %d, test %d+%d; want 80, 20, 20", len(p.train), len(p.validation), len(p.testNormal), len(p.testAnomalous))
	}
	for _, i := range slices.Concat(p.train, p.validation) {
		if i >= 1000 {
			t.Fatalf("train or validation image %d is not a train normal", i)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(slices.Concat(p.train, p.validation))))) != 100 {
		t.Error("an image is both in train and validation")
	}
}

// TestWatchAnomalies: a share of the anomalies moves from the test set to the watch
// set, disjoint from it; without the option the split is what it always was.
func TestWatchAnomalies(t *testing.T) {
	base := Options{ValidationFraction: 0.1}
	before := finish(seq(0, 200), seq(200, 50), seq(250, 40), base, newRand(7))
	if before.watch != nil {
		t.Fatalf("watch %v without WatchFraction", before.watch)
	}
	w := base
	w.WatchFraction = 0.25
	p := finish(seq(0, 200), seq(200, 50), seq(250, 40), w, newRand(7))
	if len(p.watch) != 10 || len(p.testAnomalous) != 30 || !slices.Equal(p.train, before.train) || !slices.Equal(p.testNormal, before.testNormal) {
		t.Errorf("watch %d, test anomalies %d; train and test normals must not change", len(p.watch), len(p.testAnomalous))
	}
	all := slices.Sorted(slices.Values(slices.Concat(p.watch, p.testAnomalous)))
	if !slices.Equal(all, seq(250, 40)) {
		t.Errorf("watch and test anomalies overlap or lose images: %v", all)
	}
	if few := finish(seq(0, 200), seq(200, 50), seq(250, 4), w, newRand(7)); few.watch != nil || len(few.testAnomalous) != 4 {
		t.Errorf("took %d of 4 anomalies to watch: the test needs them", len(few.watch))
	}
	if err := (Options{Dataset: MNIST, WatchFraction: 1}).Validate(); err == nil {
		t.Error("watch fraction 1 accepted")
	}
	// On MNIST: the watch set holds only the anomaly class, none of the test's.
	s, err := Load(Options{Dataset: MNIST, AnomalyClass: 3, Seed: 2, MaxTrain: 300, MaxTest: 400, WatchFraction: 0.1, Size: 16})
	if err != nil {
		t.Fatal(err)
	}
	if s.Watch == nil || s.Watch.N != MaxWatch || slices.Contains(s.Watch.Labels, false) || slices.ContainsFunc(s.Watch.Names, func(n string) bool { return slices.Contains(s.Test.Names, n) }) {
		t.Errorf("MNIST watch set: %v", s.Watch)
	}
	t.Logf("MNIST, digit 3: %d anomalies watched, test %d images", s.Watch.N, s.Test.N)
}
