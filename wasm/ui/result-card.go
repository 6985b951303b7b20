package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// resultCard shows one file: what the model saw, what it reconstructed, where the two
// differ, and the score against the threshold. Its data-* attributes carry the exact
// numbers for tests and scripts. Its "How is this scored?" link opens the teaching
// view on the same file (go-app follows links to its own pages).
//
// The card is one piece of HTML (app.Raw) rather than a tree of go-app elements: a
// large drop mounts hundreds of cards, and go-app builds an element with a call into
// JavaScript per node and per attribute (about 2 ms a card, most of the page's work in
// a batch), where the browser parses the same markup in one call. go-app still renders
// a card only when its item changed. Every text and attribute value is escaped: file
// names and error messages are the user's.
type resultCard struct {
	app.Compo

	Item item
}

func (c *resultCard) Render() app.UI { return app.Raw(cardHTML(c.Item)) }

// OnMount and OnUpdate put the images into a card rendered anew (see showImages).
func (c *resultCard) OnMount(app.Context)  { c.showImages() }
func (c *resultCard) OnUpdate(app.Context) { c.showImages() }

func (c *resultCard) showImages() {
	if im, ok := session.imagesOf(c.Item.ID); ok && c.Item.State == itemDone {
		showImages(c.JSValue(), im)
	}
}

// cardHTML is the card of it.
func cardHTML(it item) string {
	var b cardBuilder
	state := map[itemState]string{itemQueued: "queued", itemDone: "done", itemFailed: "failed"}[it.State]
	class := "card " + state
	if it.State == itemDone {
		class += " " + it.verdict()
	}
	attrs := [][2]string{{"class", class}, {"data-id", strconv.Itoa(it.ID)}, {"data-file", it.Name}, {"data-state", state}}
	switch {
	case it.State == itemFailed:
		attrs = append(attrs, [2]string{"data-error", it.Err})
	case it.State == itemDone && it.Uncalibrated:
		attrs = append(attrs, [2]string{"data-raw", strconv.FormatFloat(it.Raw, 'g', -1, 64)},
			[2]string{"data-verdict", uncalibratedVerdict}, [2]string{"data-model", it.Model + "@" + it.ModelVersion})
	case it.State == itemDone:
		attrs = append(attrs, [2]string{"data-score", strconv.FormatFloat(it.Score, 'g', -1, 64)},
			[2]string{"data-raw", strconv.FormatFloat(it.Raw, 'g', -1, 64)},
			[2]string{"data-verdict", verdict(it.Anomalous)}, [2]string{"data-model", it.Model + "@" + it.ModelVersion},
			[2]string{"data-note", it.ScopeNote})
	}
	b.open("article", attrs...)
	b.open("header", [2]string{"class", "card-head"})
	b.element("span", it.Name, [2]string{"class", "file-name"}, [2]string{"title", it.Name})
	b.element("span", humanBytes(it.Size), [2]string{"class", "file-size"})
	b.close("header")
	switch it.State {
	case itemQueued:
		b.element("p", "Waiting for a kernel worker…", [2]string{"class", "card-wait"})
		b.close("article")
		return b.String()
	case itemFailed:
		b.element("p", "Cannot score this file: "+it.Err, [2]string{"class", "card-error"}, [2]string{"role", "alert"})
		b.close("article")
		return b.String()
	}
	b.open("div", [2]string{"class", "triptych"})
	b.figure("input x", "the image as the model sees it")
	b.figure("rebuilt x̂", "the reconstruction: what the generator rebuilt from the latent code z")
	b.figure("|x − x̂|", "where the reconstruction differs, dark to bright")
	b.close("div")
	if it.Uncalibrated {
		// No scale and no threshold: the raw latent distance, and why there is no verdict.
		b.open("dl", [2]string{"class", "numbers"})
		b.element("dt", "raw A(x)")
		b.element("dd", strconv.FormatFloat(it.Raw, 'g', 5, 64), [2]string{"class", "raw"})
		b.close("dl")
		b.element("p", "No verdict: this model has no threshold (it was not calibrated on normal images). Compare raw scores: higher is more anomalous.", [2]string{"class", "verdict"})
	} else {
		pct := func(v float64) string { return strconv.FormatFloat(100*min(1, max(0, v)), 'f', 1, 64) + "%" }
		b.open("div", [2]string{"class", "meter"}, [2]string{"title", fmt.Sprintf("score %.4f, threshold %.4f", it.Score, it.Threshold)})
		b.element("div", "", [2]string{"class", "meter-fill"}, [2]string{"style", "width:" + pct(it.Score)})
		b.element("div", "", [2]string{"class", "meter-threshold"}, [2]string{"style", "left:" + pct(it.Threshold)})
		b.close("div")
		b.open("dl", [2]string{"class", "numbers"})
		b.element("dt", "score")
		b.element("dd", strconv.FormatFloat(it.Score, 'f', 4, 64), [2]string{"class", "score"})
		b.element("dt", "raw A(x)")
		b.element("dd", strconv.FormatFloat(it.Raw, 'g', 5, 64), [2]string{"class", "raw"})
		b.element("dt", "threshold")
		b.element("dd", strconv.FormatFloat(it.Threshold, 'f', 4, 64))
		b.close("dl")
		b.element("p", map[bool]string{true: "Anomalous", false: "Normal"}[it.Anomalous], [2]string{"class", "verdict"})
	}
	if it.ScopeNote != "" {
		b.element("p", it.ScopeNote, [2]string{"class", "card-note"}, [2]string{"title", "the model was trained on other images: read its score with care"})
	}
	b.element("a", "How is this scored?", [2]string{"class", "explain"}, [2]string{"href", PathTeach + "?id=" + strconv.Itoa(it.ID)})
	b.close("article")
	return b.String()
}

// cardBuilder writes HTML with every text and attribute value escaped.
type cardBuilder struct{ strings.Builder }

func (b *cardBuilder) open(tag string, attrs ...[2]string) {
	b.WriteByte('<')
	b.WriteString(tag)
	for _, a := range attrs {
		b.WriteByte(' ')
		b.WriteString(a[0])
		b.WriteString(`="`)
		b.escape(a[1])
		b.WriteByte('"')
	}
	b.WriteByte('>')
}

func (b *cardBuilder) close(tag string) {
	b.WriteString("</")
	b.WriteString(tag)
	b.WriteByte('>')
}

// element writes an element with text only.
func (b *cardBuilder) element(tag, text string, attrs ...[2]string) {
	b.open(tag, attrs...)
	b.escape(text)
	b.close(tag)
}

// escape writes s escaped for HTML text and quoted attribute values, as
// html.EscapeString does: that function's strings.Replacer would add 23 KB to app.wasm,
// which is at its size budget.
func (b *cardBuilder) escape(s string) {
	plain := true
	for _, c := range []byte(`<>&'"`) {
		plain = plain && strings.IndexByte(s, c) < 0
	}
	if plain {
		b.WriteString(s)
		return
	}
	for {
		i := strings.IndexAny(s, `<>&'"`)
		if i < 0 {
			b.WriteString(s)
			return
		}
		b.WriteString(s[:i])
		switch s[i] {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\'':
			b.WriteString("&#39;")
		default:
			b.WriteString("&#34;")
		}
		s = s[i+1:]
	}
}

// figure writes a figure whose img gets its image from showImages.
func (b *cardBuilder) figure(caption, title string) {
	b.open("figure", [2]string{"title", title})
	b.open("img", [2]string{"alt", caption}, [2]string{"loading", "lazy"})
	b.element("figcaption", caption)
	b.close("figure")
}

func figure(src, caption, title string) app.UI {
	return app.Figure().Title(title).Body(
		app.Img().Src(src).Alt(caption),
		app.FigCaption().Text(caption),
	)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
