package ui

import (
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// render mounts a component as the server's prerendering does and returns its HTML.
func render(t *testing.T, c app.UI) string {
	t.Helper()
	d := app.NewServerTester(c)
	defer d.Close()
	d.Consume()
	return app.HTMLString(c)
}

func TestResultCard(t *testing.T) {
	html := render(t, &resultCard{Item: item{ID: 1, Name: "seven.png", Size: 2048, State: itemDone,
		Score: 0.75, Raw: 0.0123, Anomalous: true, Threshold: 0.5, Model: "default", ModelVersion: "abcd"}})
	for _, want := range []string{`data-score="0.75"`, `data-raw="0.0123"`, `data-verdict="anomalous"`,
		`class="card done anomalous"`, `data-id="1"`, `<img alt="rebuilt x̂" loading="lazy">`, "Anomalous", "2 kB", `data-model="default@abcd"`} {
		if !strings.Contains(html, want) {
			t.Errorf("done card lacks %s:\n%s", want, html)
		}
	}
	html = render(t, &resultCard{Item: item{ID: 2, Name: "notes.png", State: itemFailed, Err: "imageio: not an image"}})
	if !strings.Contains(html, "Cannot score this file: imageio: not an image") || !strings.Contains(html, `data-state="failed"`) {
		t.Errorf("failed card:\n%s", html)
	}
}

// A card is raw HTML: the user's file names and errors must stay text, whatever
// they hold.
func TestResultCardEscapes(t *testing.T) {
	name := `<img src=x onerror="alert(1)">&'.png`
	for _, it := range []item{
		{ID: 4, Name: name, State: itemDone, Score: 0.5, Model: `m"`, ScopeNote: "<b>note</b>"},
		{ID: 5, Name: name, State: itemFailed, Err: "<script>alert(2)</script>"},
		{ID: 6, Name: name},
	} {
		html := render(t, &resultCard{Item: it})
		for _, bad := range []string{"<img src=x", "<script>", "<b>", `="alert(`, `m""`} {
			if strings.Contains(html, bad) {
				t.Errorf("card of %+v holds %s unescaped:\n%s", it, bad, html)
			}
		}
		if want := `&lt;img src=x onerror=&#34;alert(1)&#34;&gt;&amp;&#39;.png`; strings.Count(html, want) != 3 {
			t.Errorf("card of %+v should show the name escaped as text, in its data-file, title and text:\n%s", it, html)
		}
	}
}

// The server prerenders the page: it must render without a browser.
func TestCheckPagePrerenders(t *testing.T) {
	html := render(t, &checkPage{})
	for _, want := range []string{`id="drop-zone"`, `data-client="false"`, `id="file-input"`, `id="model-status"`} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// A model without calibration shows the raw score and says there is no verdict; it
// never shows a [0, 1] score, a threshold or "Normal".
func TestResultCardUncalibrated(t *testing.T) {
	html := render(t, &resultCard{Item: item{ID: 3, Name: "x.png", State: itemDone, Raw: 0.0456, Uncalibrated: true,
		Model: "imported", ModelVersion: "ef01"}})
	for _, want := range []string{`data-raw="0.0456"`, `data-verdict="uncalibrated"`, "no threshold"} {
		if !strings.Contains(html, want) {
			t.Errorf("uncalibrated card lacks %s:\n%s", want, html)
		}
	}
	for _, not := range []string{"data-score", "Normal", "meter-threshold"} {
		if strings.Contains(html, not) {
			t.Errorf("uncalibrated card shows %s:\n%s", not, html)
		}
	}
}

func TestHumanName(t *testing.T) {
	for _, c := range []struct {
		m    api.Model
		want string
	}{
		{api.Model{Name: "default", Dataset: "mnist", AnomalyClass: "2"}, "MNIST digits — 2 is the anomaly"},
		{api.Model{Name: "fm", Dataset: "fashion-mnist", AnomalyClass: "Bag"}, "Fashion-MNIST clothes — Bag is the anomaly"},
		{api.Model{Name: "screws", Dataset: "folder:screws"}, "images of screws (screws)"},
		{api.Model{Name: "netG"}, "netG"},
	} {
		if got := humanName(c.m); got != c.want {
			t.Errorf("%+v: %q, want %q", c.m, got, c.want)
		}
	}
}
