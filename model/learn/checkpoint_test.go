package learn

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ganomaly-go/ganomaly-go/model/safetensors"
)

// A checkpoint written, read back and restored continues the run exactly.
func TestCheckpointRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	a, _ := NewTrainer(smallConfig, DefaultHyper(), 8)
	if _, err := a.Step(randomBatch(r, smallConfig, 4), 4); err != nil {
		t.Fatal(err)
	}
	st := a.State()
	best := a.Generator()
	f := &safetensors.File{Metadata: map[string]string{"state": "{}"}}
	EncodeCheckpoint(f, smallConfig, st, best)
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	back, err := safetensors.Read(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if back.Metadata["format"] != CheckpointFormat || back.Metadata["state"] != "{}" {
		t.Fatalf("metadata %v", back.Metadata)
	}
	got, gotBest, err := DecodeCheckpoint(back, smallConfig)
	if err != nil {
		t.Fatal(err)
	}
	got.AdamGStep, got.AdamDStep, got.DReinits = st.AdamGStep, st.AdamDStep, st.DReinits
	b, _ := NewTrainer(smallConfig, DefaultHyper(), 8)
	if err := b.Restore(got); err != nil {
		t.Fatal(err)
	}
	x := randomBatch(r, smallConfig, 4)
	la, _ := a.Step(x, 4)
	lb, _ := b.Step(x, 4)
	if la != lb {
		t.Fatalf("losses after restoring: %+v, uninterrupted %+v", lb, la)
	}
	for name, v := range a.State().D {
		if !slices.Equal(v, b.State().D[name]) {
			t.Fatalf("D's %s differs after restoring a checkpoint", name)
		}
	}
	if name := "decoder.main.final-8-1-convt.weight"; !slices.Equal(gotBest[name], best[name]) {
		t.Fatalf("kept generator's %s differs", name)
	}

	// A missing tensor is named.
	back.Tensors = back.Tensors[1:]
	if _, _, err := DecodeCheckpoint(back, smallConfig); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("checkpoint without its first tensor: %v", err)
	}
}
