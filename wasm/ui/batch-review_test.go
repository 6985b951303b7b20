package ui

import (
	"math"
	"testing"
)

func TestNameLabel(t *testing.T) {
	for _, c := range []struct {
		name, class string
		want        int
	}{
		{"normal/part-001.png", "", labelNormal},
		{"good_3.jpg", "", labelNormal},
		{"test/0.normal/a.png", "", labelNormal},
		{"anomalous/x.png", "", labelAnomalous},
		{"test/1.abnormal/x.png", "", labelAnomalous},
		{"scratch-defects-4.png", "", labelAnomalous},
		{"bad.png", "", labelAnomalous},
		{"notebook.png", "", labelUnknown}, // "ok" and "bad" only as words
		{"badge.png", "", labelUnknown},
		{"digit-label2-17.png", "2", labelAnomalous},
		{"label_7.png", "2", labelNormal},
		{"mnist-2-1.png", "2", labelAnomalous},
		{"mnist-9-2.png", "2", labelNormal},
		{"mnist-9-2.png", "", labelUnknown},
		{"mnist-5-1.png", "Sandal", labelUnknown},
		{"IMG_2024.png", "2", labelUnknown},
	} {
		if got := nameLabel(c.name, c.class); got != c.want {
			t.Errorf("nameLabel(%q, %q) = %d, want %d", c.name, c.class, got, c.want)
		}
	}
}

// TestReviewAtAThreshold: the model's threshold keeps the model's verdicts; a custom
// one re-labels by score, and the confusion matrix, precision, recall and AUC follow
// the labels in the names.
func TestReviewAtAThreshold(t *testing.T) {
	items := []item{
		{Name: "label7-a.png", State: itemDone, Score: 0.1, Raw: 1, Anomalous: false},
		{Name: "label7-b.png", State: itemDone, Score: 0.5, Raw: 3, Anomalous: true},
		{Name: "label2-a.png", State: itemDone, Score: 0.4, Raw: 2, Anomalous: false},
		{Name: "label2-b.png", State: itemDone, Score: 0.9, Raw: 5, Anomalous: true},
		{Name: "photo.png", State: itemDone, Score: 0.95, Raw: 6, Anomalous: true},
		{Name: "label2-c.png", State: itemQueued},
		{Name: "label2-d.png", State: itemDone, Uncalibrated: true, Raw: 9},
	}
	m := reviewOf(items, 0.45, false, "2")
	if m.Scored != 5 || m.Anomalous != 3 || m.Labelled != 4 || m.TP != 1 || m.FP != 1 || m.TN != 1 || m.FN != 1 || m.Custom {
		t.Errorf("at the model's threshold: %+v", m)
	}
	if math.Abs(m.AUC-0.75) > 1e-12 || !m.Labels || len(m.ROC) < 2 {
		t.Errorf("AUC %v (want 0.75: one of the four normal–anomalous pairs is misordered), ROC %d points", m.AUC, len(m.ROC))
	}
	c := reviewOf(items, 0.3, true, "2")
	if c.Anomalous != 4 || c.TP != 2 || c.FP != 1 || c.TN != 1 || c.FN != 0 || c.Precision != 2.0/3 || c.Recall != 1 {
		t.Errorf("at 0.3: %+v", c)
	}
	if n, a := c.Histograms.Normal.Total(), c.Histograms.Anomalous.Total(); n != 2 || a != 2 {
		t.Errorf("histograms of %d normal and %d anomalous labelled scores", n, a)
	}
	j := judged(items, 0.3, true)
	if !j[2].Anomalous || j[2].Threshold != 0.3 || items[2].Anomalous || j[6].Anomalous {
		t.Errorf("judged at 0.3: %+v; the batch itself must not change", j[2])
	}
	if u := reviewOf(items[4:5], 0.5, false, "2"); u.Labels || u.Labelled != 0 || !math.IsNaN(u.AUC) || u.Histograms.Normal.Total() != 1 {
		t.Errorf("unlabelled batch: %+v", u)
	}
}
