package ui

import (
	"encoding/json"
	"fmt"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// Local storage keys. The model list is kept so that the picker shows, offline, what
// the server offered last time; the choice so that a reload keeps it.
const (
	storeModels = "ganomaly.models"
	storeChoice = "ganomaly.model"
	// storeLocal lists the models trained in this browser (their weights are in Cache
	// Storage under their URLs).
	storeLocal = "ganomaly.localModels"
)

// localModels are the models trained in this browser, newest first.
func localModels(s app.BrowserStorage) []api.Model {
	var ms []api.Model
	s.Get(storeLocal, &ms)
	return ms
}

// addLocalModel records a model trained in this browser.
func addLocalModel(s app.BrowserStorage, m api.Model) {
	s.Set(storeLocal, append([]api.Model{m}, localModels(s)...))
}

// withLocal is the server's models followed by this browser's own.
func withLocal(s app.BrowserStorage, listed []api.Model) []api.Model {
	return append(append([]api.Model(nil), listed...), localModels(s)...)
}

// defaultModel is the embedded default model as the server described it in the app's
// environment; ok is false when the page was not served by the ganomaly server.
func defaultModel() (m api.Model, ok bool) {
	env := app.Getenv(EnvDefaultModel)
	if env == "" {
		return m, false
	}
	if err := json.Unmarshal([]byte(env), &m); err != nil || m.URL == "" {
		return m, false
	}
	return m, true
}

// mergeModels puts the default model first, then the others in the server's order.
// The default comes from the app's environment when there is one: it was served with
// this version of the app, whose service worker cached its weights, whereas a stored
// list may be older than the app. A listed default stands in otherwise.
func mergeModels(def api.Model, haveDef bool, listed []api.Model) []api.Model {
	var out []api.Model
	for _, m := range listed {
		if (m.Default || m.Name == api.DefaultModel) && !haveDef {
			def, haveDef = m, true
		}
	}
	if haveDef {
		out = append(out, def)
	}
	for _, m := range listed {
		if !(m.Default || m.Name == api.DefaultModel) {
			out = append(out, m)
		}
	}
	return out
}

// choose returns the model named name, else the first one.
func choose(models []api.Model, name string) (api.Model, bool) {
	for _, m := range models {
		if m.Name == name {
			return m, true
		}
	}
	if len(models) > 0 {
		return models[0], true
	}
	return api.Model{}, false
}

// storedModels is the list saved by the last successful fetch.
func storedModels(s app.BrowserStorage) api.ModelList {
	var list api.ModelList
	s.Get(storeModels, &list) // nothing stored (first visit) or unreadable: empty
	return list
}

// describeConfig says in a few words what a model takes: "32×32 grey, latent 100".
func describeConfig(m api.Model) string {
	colour := "grey"
	if m.Config.Channels == 3 {
		colour = "colour"
	}
	return fmt.Sprintf("%d×%d %s, latent %d", m.Config.ImageSize, m.Config.ImageSize, colour, m.Config.Latent)
}

// humanName is what people read for a model: the data it knows and the class it
// calls anomalous ("MNIST digits — 2 is the anomaly"); the file name when the
// provenance says nothing more.
func humanName(m api.Model) string {
	data := model.DescribeDataset(m.Dataset)
	switch {
	case data != "" && m.AnomalyClass != "":
		return data + " — " + m.AnomalyClass + " is the anomaly"
	case data != "":
		return data + " (" + m.Name + ")"
	}
	return m.Name
}

// describeClass says what the model calls normal.
func describeClass(m api.Model) string {
	if m.AnomalyClass == "" {
		return ""
	}
	return fmt.Sprintf("class %s held out as the anomaly", m.AnomalyClass)
}
