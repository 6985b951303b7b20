package ui

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"slices"
	"strconv"
)

// itemState is where one dropped file is on its way to a card.
type itemState int

const (
	itemQueued itemState = iota
	itemDone
	itemFailed
)

// item is one dropped file and, once scored, its result. It is passed to the card by
// value: go-app compares a component's fields to decide whether to re-render, and
// would see no change through a pointer.
type item struct {
	ID    int
	Name  string
	Size  int64
	State itemState
	// Err says what is wrong with the file when State is itemFailed.
	Err string
	// Model is the name and version of the model that scored it.
	Model, ModelVersion string
	Raw, Score          float64
	Anomalous           bool
	// Uncalibrated marks a result of a model without calibration (an imported official
	// checkpoint): only Raw means something; there is no score in [0, 1] and no verdict.
	Uncalibrated bool
	// Threshold is the model's threshold on the [0, 1] score scale, drawn on the
	// card's meter.
	Threshold float64
	// ScopeNote says how the image differs from what the model knows, if it does.
	ScopeNote string
	// Its images are the session's (checkSession.images), out of Go's reach.
}

// latents are the vectors the teaching view explains an image with; kept apart from
// item so that cards do not compare hundreds of floats on every render.
type latents struct {
	Z, ZHat, XHat []float32
}

// batch is every file dropped since the last Clear.
type batch struct {
	items  []item
	nextID int
}

// add queues a file and returns its id.
func (b *batch) add(name string, size int64) int {
	b.nextID++
	b.items = append(b.items, item{ID: b.nextID, Name: name, Size: size})
	return b.nextID
}

// set replaces the item with the same id; false when it was cleared meanwhile.
func (b *batch) set(it item) bool {
	for i := range b.items {
		if b.items[i].ID == it.ID {
			b.items[i] = it
			return true
		}
	}
	return false
}

func (b *batch) get(id int) (item, bool) {
	for _, it := range b.items {
		if it.ID == id {
			return it, true
		}
	}
	return item{}, false
}

// counts returns how many items are scored, failed and in all.
func (b *batch) counts() (done, failed, total int) {
	for _, it := range b.items {
		switch it.State {
		case itemDone:
			done++
		case itemFailed:
			failed++
		}
	}
	return done, failed, len(b.items)
}

// view lists the items in display order: as dropped, or by score (most anomalous
// first; then files still queued, then failed ones, each in drop order).
func (b *batch) view(byScore bool) []item {
	v := slices.Clone(b.items)
	if !byScore {
		return v
	}
	rank := func(it item) int {
		switch it.State {
		case itemDone:
			return 0
		case itemQueued:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(v, func(a, b item) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		if a.State == itemDone {
			// Raw breaks ties between scores clamped to 0 or 1.
			if c := cmp.Compare(b.Score, a.Score); c != 0 {
				return c
			}
			return cmp.Compare(b.Raw, a.Raw)
		}
		return 0
	})
	return v
}

// csvHeader names the columns of the exported batch.
var csvHeader = []string{"file", "bytes", "status", "score", "raw_score", "threshold", "verdict", "model", "model_version", "error"}

// itemsCSV exports items, in their order, with their verdicts and thresholds as they
// are. Numbers carry full precision so that the file can be compared with `ganomaly
// score` output.
func itemsCSV(items []item) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(csvHeader)
	for _, it := range items {
		row := []string{it.Name, strconv.FormatInt(it.Size, 10), "", "", "", "", "", it.Model, it.ModelVersion, it.Err}
		switch it.State {
		case itemQueued:
			row[2] = "queued"
		case itemFailed:
			row[2] = "failed"
		case itemDone:
			row[2] = "scored"
			row[4] = strconv.FormatFloat(it.Raw, 'g', -1, 64)
			row[6] = it.verdict()
			if !it.Uncalibrated {
				row[3] = strconv.FormatFloat(it.Score, 'g', -1, 64)
				row[5] = strconv.FormatFloat(it.Threshold, 'g', -1, 64)
			}
		}
		w.Write(row)
	}
	w.Flush()
	return buf.Bytes()
}

// uncalibratedVerdict is what stands for a verdict when the model has no threshold.
const uncalibratedVerdict = "uncalibrated"

// verdict is the item's verdict, or uncalibratedVerdict.
func (it item) verdict() string {
	if it.Uncalibrated {
		return uncalibratedVerdict
	}
	return verdict(it.Anomalous)
}

func verdict(anomalous bool) string {
	if anomalous {
		return "anomalous"
	}
	return "normal"
}
