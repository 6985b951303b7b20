package ui

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

func testBatch() *batch {
	b := &batch{}
	for _, name := range []string{"a.png", "b.png", "c.png", "d.png", "e, \"quoted\".png"} {
		b.add(name, 100)
	}
	set := func(id int, f func(*item)) {
		it, _ := b.get(id)
		f(&it)
		b.set(it)
	}
	set(1, func(it *item) {
		it.State, it.Score, it.Raw, it.Anomalous, it.Threshold = itemDone, 0.2, 0.002, false, 0.5
	})
	set(2, func(it *item) { it.State, it.Err = itemFailed, "imageio: not an image" })
	set(3, func(it *item) { it.State, it.Score, it.Raw, it.Anomalous, it.Threshold = itemDone, 1, 0.02, true, 0.5 })
	// 4 stays queued
	set(5, func(it *item) { it.State, it.Score, it.Raw, it.Anomalous, it.Threshold = itemDone, 1, 0.03, true, 0.5 })
	return b
}

func names(items []item) string {
	var s []string
	for _, it := range items {
		s = append(s, it.Name)
	}
	return strings.Join(s, " | ")
}

func TestBatchView(t *testing.T) {
	b := testBatch()
	if got, want := names(b.view(false)), `a.png | b.png | c.png | d.png | e, "quoted".png`; got != want {
		t.Errorf("drop order: %s", got)
	}
	// By score, most anomalous first; equal (clamped) scores by raw score; then the
	// queued file, then the failed one.
	if got, want := names(b.view(true)), `e, "quoted".png | c.png | a.png | d.png | b.png`; got != want {
		t.Errorf("by score: %s, want %s", got, want)
	}
	done, failed, total := b.counts()
	if anomalous := reviewOf(b.items, 0, false, "").Anomalous; done != 3 || failed != 1 || total != 5 || anomalous != 2 {
		t.Errorf("counts %d %d %d, anomalous %d", done, failed, total, anomalous)
	}
	if b.set(item{ID: 99}) {
		t.Error("set of an unknown id reported success")
	}
}

func TestBatchCSV(t *testing.T) {
	b := testBatch()
	recs, err := csv.NewReader(bytes.NewReader(itemsCSV(b.view(true)))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 || strings.Join(recs[0], ",") != strings.Join(csvHeader, ",") {
		t.Fatalf("records %v", recs)
	}
	if r := recs[1]; r[0] != `e, "quoted".png` || r[2] != "scored" || r[3] != "1" || r[4] != "0.03" || r[6] != "anomalous" {
		t.Errorf("first row %v", r)
	}
	if r := recs[4]; r[2] != "queued" || r[3] != "" {
		t.Errorf("queued row %v", r)
	}
	if r := recs[5]; r[2] != "failed" || r[9] != "imageio: not an image" {
		t.Errorf("failed row %v", r)
	}
}

func TestBatchCSVUncalibrated(t *testing.T) {
	var b batch
	id := b.add("imported.png", 10)
	it, _ := b.get(id)
	it.State, it.Raw, it.Uncalibrated = itemDone, 0.25, true
	b.set(it)
	recs, err := csv.NewReader(bytes.NewReader(itemsCSV(b.view(false)))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if r := recs[1]; r[3] != "" || r[4] != "0.25" || r[5] != "" || r[6] != "uncalibrated" {
		t.Errorf("uncalibrated row %v: want no score, raw 0.25, no threshold, verdict uncalibrated", r)
	}
}
