package ui

import (
	"testing"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

func TestMergeModels(t *testing.T) {
	envDef := api.Model{Name: "default", URL: "/weights/default.safetensors?v=old"}
	listed := []api.Model{
		{Name: "mnist-3", URL: "/weights/mnist-3.safetensors?v=1"},
		{Name: "default", Default: true, URL: "/weights/default.safetensors?v=new"},
	}
	// The app's own default wins over a listed one (a stored list may be older).
	got := mergeModels(envDef, true, listed)
	if len(got) != 2 || got[0].URL != envDef.URL || got[1].Name != "mnist-3" {
		t.Errorf("merge with a listed default: %+v", got)
	}
	if got := mergeModels(api.Model{}, false, listed); len(got) != 2 || got[0].URL != "/weights/default.safetensors?v=new" {
		t.Errorf("merge without an environment default: %+v", got)
	}
	// Offline on a first visit: only the environment's default.
	if got := mergeModels(envDef, true, nil); len(got) != 1 || got[0].URL != envDef.URL {
		t.Errorf("merge without a list: %+v", got)
	}
	if got := mergeModels(api.Model{}, false, nil); len(got) != 0 {
		t.Errorf("merge of nothing: %+v", got)
	}
	if m, ok := choose(nil, "x"); ok {
		t.Errorf("choose in an empty list: %+v", m)
	}
	all := mergeModels(envDef, true, listed)
	if m, _ := choose(all, "mnist-3"); m.Name != "mnist-3" {
		t.Errorf("choose mnist-3: %+v", m)
	}
	if m, _ := choose(all, "gone"); m.Name != "default" {
		t.Errorf("choose a removed model: %+v, want the default", m)
	}
}
