package ui

import (
	"math"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"github.com/ganomaly-go/ganomaly-go/model/card"
)

// The teaching view's charts are inline SVG built from go-app elements. Every chart
// has a fixed viewBox and scales to its container's width (CSS: width 100%, a
// max-width), so that one geometry serves a 360 px phone and a desktop; the viewBox
// is narrow enough (chartW) that labels stay legible on a phone. Colours come from
// app.css through data-role attributes: go-app sets "class" through the className
// property, which SVG elements do not accept.

const (
	svgNS  = "http://www.w3.org/2000/svg"
	chartW = 400.0
	// pad leaves room for axis labels.
	padL, padR, padT, padB = 34.0, 8.0, 10.0, 22.0
)

// linear maps [d0, d1] onto [r0, r1]; a degenerate domain maps to the middle.
type linear struct{ d0, d1, r0, r1 float64 }

func (s linear) at(v float64) float64 {
	if s.d1 == s.d0 {
		return (s.r0 + s.r1) / 2
	}
	return s.r0 + (v-s.d0)/(s.d1-s.d0)*(s.r1-s.r0)
}

// clampAt is at, kept inside the range.
func (s linear) clampAt(v float64) float64 {
	lo, hi := min(s.r0, s.r1), max(s.r0, s.r1)
	return max(lo, min(hi, s.at(v)))
}

func svgEl(tag string) app.HTMLElem { return app.Elem(tag).XMLNS(svgNS) }

func num(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// svgChart is the root of a chart: label is its accessible description.
func svgChart(id string, h float64, label string, body ...app.UI) app.HTMLElem {
	return svgEl("svg").ID(id).Attr("viewBox", "0 0 "+num(chartW)+" "+num(h)).
		Attr("role", "img").Aria("label", label).Body(body...)
}

func svgRect(x, y, w, h float64, role string) app.UI {
	if w < 0 {
		x, w = x+w, -w
	}
	if h < 0 {
		y, h = y+h, -h
	}
	return svgEl("rect").Attr("x", num(x)).Attr("y", num(y)).Attr("width", num(w)).Attr("height", num(h)).DataSet("role", role)
}

func svgLine(x1, y1, x2, y2 float64, role string) app.HTMLElem {
	return svgEl("line").Attr("x1", num(x1)).Attr("y1", num(y1)).Attr("x2", num(x2)).Attr("y2", num(y2)).DataSet("role", role)
}

func svgCircle(cx, cy, r float64, role string) app.HTMLElem {
	return svgEl("circle").Attr("cx", num(cx)).Attr("cy", num(cy)).Attr("r", num(r)).DataSet("role", role)
}

// svgText anchors "start", "middle" or "end" at (x, y).
func svgText(x, y float64, anchor, role, s string) app.UI {
	return svgEl("text").Attr("x", num(x)).Attr("y", num(y)).Attr("text-anchor", anchor).DataSet("role", role).Text(s)
}

func svgPolyline(xs, ys []float64, role string) app.UI {
	var b strings.Builder
	for i := range xs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(num(xs[i]) + "," + num(ys[i]))
	}
	return svgEl("polyline").Attr("points", b.String()).DataSet("role", role)
}

// bar is one rectangle of a bar chart, in viewBox units.
type bar struct{ X, Y, W, H float64 }

// divergingBars lays out values as bars from a zero line across [x0, x1], in slots of
// equal width, with heights scaled so that ±maxAbs reach y0 and y1 (y0 < y1: SVG's y
// grows downwards, so positive values go up from the middle).
func divergingBars(values []float64, maxAbs, x0, x1, y0, y1 float64) []bar {
	if len(values) == 0 {
		return nil
	}
	if maxAbs <= 0 {
		maxAbs = 1
	}
	mid := (y0 + y1) / 2
	half := (y1 - y0) / 2
	slot := (x1 - x0) / float64(len(values))
	out := make([]bar, len(values))
	for i, v := range values {
		h := v / maxAbs * half
		b := bar{X: x0 + float64(i)*slot, W: slot * 0.8, Y: mid - h, H: h}
		if h < 0 {
			b.Y, b.H = mid, -h
		}
		out[i] = b
	}
	return out
}

// upBars lays out non-negative values as bars standing on y1, scaled so that top
// reaches y0.
func upBars(values []float64, top, x0, x1, y0, y1 float64) []bar {
	if top <= 0 {
		top = 1
	}
	slot := (x1 - x0) / float64(max(1, len(values)))
	out := make([]bar, len(values))
	for i, v := range values {
		h := max(0, v) / top * (y1 - y0)
		out[i] = bar{X: x0 + float64(i)*slot, W: slot, Y: y1 - h, H: h}
	}
	return out
}

func f32s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// latentStrip draws a latent vector as bars around zero, on a scale shared with the
// other strips of the same image so that z and ẑ compare by eye.
func latentStrip(id, label string, v []float32, maxAbs float64, role string) app.UI {
	const h = 72.0
	bars := divergingBars(f32s(v), maxAbs, 2, chartW-2, 4, h-4)
	body := []app.UI{svgLine(0, h/2, chartW, h/2, "axis")}
	for _, b := range bars {
		body = append(body, svgRect(b.X, b.Y, b.W, max(b.H, 0.5), role))
	}
	return svgChart(id, h, label, body...)
}

// pairChart draws z and ẑ dimension by dimension: per dimension a z bar and an ẑ bar
// side by side, so that the dimensions where they part stand out.
func pairChart(id string, z, zhat []float32, maxAbs float64) app.UI {
	const h = 150.0
	x0, x1 := padL, chartW-padR
	zb := divergingBars(f32s(z), maxAbs, x0, x1, padT, h-padB)
	hb := divergingBars(f32s(zhat), maxAbs, x0, x1, padT, h-padB)
	mid := (padT + h - padB) / 2
	body := []app.UI{
		svgLine(x0, mid, x1, mid, "axis"),
		svgText(x0-4, padT+8, "end", "label", "+"+strconv.FormatFloat(maxAbs, 'g', 2, 64)),
		svgText(x0-4, h-padB, "end", "label", "−"+strconv.FormatFloat(maxAbs, 'g', 2, 64)),
		svgText(x0, h-6, "start", "label", "dimension 1"),
		svgText(x1, h-6, "end", "label", strconv.Itoa(len(z))),
	}
	for i := range zb {
		w := zb[i].W / 2
		body = append(body,
			svgRect(zb[i].X, zb[i].Y, w, max(zb[i].H, 0.5), "z"),
			svgRect(hb[i].X+w, hb[i].Y, w, max(hb[i].H, 0.5), "zhat"))
	}
	return svgChart(id, h, "z and ẑ per latent dimension", body...)
}

// termsChart draws the score's terms sorted from the largest, the largest labelled
// with their dimension.
func termsChart(id string, e *explanation) app.UI {
	const h = 150.0
	x0, x1 := padL, chartW-padR
	sorted := make([]float64, len(e.Order))
	for i, d := range e.Order {
		sorted[i] = e.Terms[d]
	}
	bars := upBars(sorted, e.TermMax, x0, x1, padT+12, h-padB)
	body := []app.UI{
		svgLine(x0, h-padB, x1, h-padB, "axis"),
		svgText(x0-4, padT+20, "end", "label", strconv.FormatFloat(e.TermMax, 'g', 2, 64)),
		svgText(x0-4, h-padB, "end", "label", "0"),
		svgText(x0, h-6, "start", "label", "largest"),
		svgText(x1, h-6, "end", "label", "smallest"),
	}
	for i, b := range bars {
		body = append(body, svgRect(b.X, b.Y, max(b.W*0.85, 0.5), b.H, "term"))
		if i == 0 { // the others are listed under the chart: bars this thin have no room
			body = append(body, svgText(b.X+b.W+3, min(b.Y+9, h-padB-16), "start", "label", "dimension "+strconv.Itoa(e.Order[i]+1)))
		}
	}
	return svgChart(id, h, "the score's terms per dimension, largest first", body...)
}

// histogramChart draws the scores of normal and anomalous images as the share of each
// class per bin (the classes differ in size), this image's score as a marker and the
// threshold as a line; label says which scores, and axis names their scale. Scores off
// the range are drawn at its
// edge; a NaN marker or calibrated threshold is left out.
func histogramChart(id, label, axis string, hs card.Histograms, marker, threshold, calibrated float64) app.UI {
	const h = 170.0
	x0, x1, y1 := padL, chartW-padR, h-padB
	n, a := hs.Normal, hs.Anomalous
	share := func(counts []int, total int) []float64 {
		out := make([]float64, len(counts))
		for i, c := range counts {
			if total > 0 {
				out[i] = float64(c) / float64(total)
			}
		}
		return out
	}
	ns := share(n.Counts, n.Total()+n.Below+n.Above)
	as := share(a.Counts, a.Total()+a.Below+a.Above)
	top := 0.0
	for i := range ns {
		top = max(top, ns[i], as[i])
	}
	x := linear{n.Min, n.Max, x0, x1}
	body := []app.UI{svgLine(x0, y1, x1, y1, "axis")}
	for _, b := range upBars(ns, top, x0, x1, padT+14, y1) {
		body = append(body, svgRect(b.X, b.Y, b.W, b.H, "normal"))
	}
	for _, b := range upBars(as, top, x0, x1, padT+14, y1) {
		body = append(body, svgRect(b.X, b.Y, b.W, b.H, "anomalous"))
	}
	if !math.IsNaN(calibrated) {
		cx := x.clampAt(calibrated)
		body = append(body, svgLine(cx, padT+10, cx, y1, "calibrated"))
	}
	tx := x.clampAt(threshold)
	body = append(body, svgLine(tx, padT, tx, y1, "threshold").ID(id+"-line").DataSet("x", num(tx)))
	if !math.IsNaN(marker) {
		mx := x.clampAt(marker)
		body = append(body,
			svgEl("path").Attr("d", "M"+num(mx-6)+" "+num(padT)+" L"+num(mx+6)+" "+num(padT)+" L"+num(mx)+" "+num(padT+10)+" Z").DataSet("role", "marker"),
			svgLine(mx, padT+10, mx, y1, "marker"))
	}
	body = append(body,
		svgText(x0, h-6, "start", "label", strconv.FormatFloat(n.Min, 'g', 3, 64)),
		svgText(x1, h-6, "end", "label", strconv.FormatFloat(n.Max, 'g', 3, 64)),
		svgText((x0+x1)/2, h-6, "middle", "label", axis+" →"),
		svgText(x0-4, padT+20, "end", "label", strconv.FormatFloat(100*top, 'f', 0, 64)+"%"),
	)
	return svgChart(id, h, label, body...)
}

// rocChart draws the ROC curve, the chance diagonal and the operating point of the
// slider's threshold.
func rocChart(id string, roc []card.ROCPoint, fpr, tpr float64) app.UI {
	const h = 250.0
	side := h - padT - padB
	x0 := (chartW - side) / 2
	x := linear{0, 1, x0, x0 + side}
	y := linear{0, 1, h - padB, padT}
	xs, ys := make([]float64, len(roc)), make([]float64, len(roc))
	for i, p := range roc {
		xs[i], ys[i] = x.at(p.FPR), y.at(p.TPR)
	}
	return svgChart(id, h, "ROC curve with the operating point of the chosen threshold",
		svgRect(x0, padT, side, side, "frame"),
		svgLine(x.at(0), y.at(0), x.at(1), y.at(1), "chance"),
		svgPolyline(xs, ys, "roc"),
		svgCircle(x.at(fpr), y.at(tpr), 5, "point").ID(id+"-point"),
		svgText(x0, h-6, "start", "label", "0"),
		svgText(x0+side, h-6, "end", "label", "1"),
		svgText(x0+side/2, h-6, "middle", "label", "false positive rate"),
		svgText(x0-4, padT+8, "end", "label", "1"),
		svgText(x0-4, h-padB, "end", "label", "0"),
		svgEl("text").Attr("transform", "translate("+num(x0-10)+" "+num(padT+side/2)+") rotate(-90)").
			Attr("text-anchor", "middle").DataSet("role", "label").Text("true positive rate"),
	)
}

// mapBounds is the square range of the latent map: every reference point and the
// image's two codes, with a margin.
func mapBounds(points []card.PCAPoint, extra ...[2]float64) (lo, hi [2]float64) {
	lo = [2]float64{math.Inf(1), math.Inf(1)}
	hi = [2]float64{math.Inf(-1), math.Inf(-1)}
	grow := func(x, y float64) {
		lo[0], lo[1] = min(lo[0], x), min(lo[1], y)
		hi[0], hi[1] = max(hi[0], x), max(hi[1], y)
	}
	for _, p := range points {
		grow(p.X, p.Y)
	}
	for _, p := range extra {
		grow(p[0], p[1])
	}
	if math.IsInf(lo[0], 0) {
		return [2]float64{-1, -1}, [2]float64{1, 1}
	}
	for k := range 2 {
		m := 0.05*(hi[k]-lo[k]) + 1e-9
		lo[k], hi[k] = lo[k]-m, hi[k]+m
	}
	return lo, hi
}

// mapChart plots the card's reference codes on the PCA plane and the image's z and ẑ,
// joined by a line: the length of that line on the plane is part of the distance
// the score measures (the rest lies in the other nz − 2 directions).
func mapChart(id string, pca *card.PCA, z, zhat [2]float64) app.UI {
	const h = 260.0
	lo, hi := mapBounds(pca.Points, z, zhat)
	x := linear{lo[0], hi[0], padL, chartW - padR}
	y := linear{lo[1], hi[1], h - padB, padT}
	body := []app.UI{svgRect(padL, padT, chartW-padL-padR, h-padT-padB, "frame")}
	for _, p := range pca.Points {
		role := "normal"
		if p.Anomalous {
			role = "anomalous"
		}
		body = append(body, svgCircle(x.at(p.X), y.at(p.Y), 2.2, role))
	}
	body = append(body,
		svgLine(x.at(z[0]), y.at(z[1]), x.at(zhat[0]), y.at(zhat[1]), "link"),
		svgCircle(x.at(z[0]), y.at(z[1]), 6, "z"),
		svgCircle(x.at(zhat[0]), y.at(zhat[1]), 6, "zhat"),
		svgText(padL, h-6, "start", "label", "component 1 →"),
		svgEl("text").Attr("transform", "translate("+num(padL-8)+" "+num((padT+h-padB)/2)+") rotate(-90)").
			Attr("text-anchor", "middle").DataSet("role", "label").Text("component 2 →"),
	)
	return svgChart(id, h, "latent codes of test images on the two main axes, with this image's z and ẑ", body...)
}
