package ui

import (
	"math"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// The loss charts are SVG drawn by hand: a polyline in a fixed viewBox that CSS
// stretches to the chart's width (vector-effect keeps the stroke thin), with the scale
// written beside it in HTML, where text is not stretched. SVG elements are styled by
// data-role: go-app sets a class through the className property, which SVG elements
// do not take.
const (
	trainSVGNS   = "http://www.w3.org/2000/svg"
	trainChartW  = 300.0
	trainChartH  = 90.0
	trainChartIn = 4.0 // inner margin, so the curve's extremes are not cut by the frame
)

func trainSVG(tag string) app.HTMLElem { return app.Elem(tag).XMLNS(trainSVGNS) }

// trainChart draws one loss over the job's steps, from step 0 to XMax.
type trainChart struct {
	app.Compo

	Key, Label string
	Points     []trainPoint
	XMax       int
}

// trainPolyline maps points to the chart's viewBox: x from 0 to xmax, y from lo (at
// the bottom) to hi. A flat series sits in the middle.
func trainPolyline(points []trainPoint, xmax int, lo, hi float64) string {
	var b strings.Builder
	w, h := trainChartW-2*trainChartIn, trainChartH-2*trainChartIn
	span := hi - lo
	for i, p := range points {
		x := trainChartIn + w*float64(p.X)/float64(max(xmax, 1))
		y := trainChartIn + h/2
		if span > 0 {
			y = trainChartIn + h*(1-(p.Y-lo)/span)
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(x, 'f', 1, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(y, 'f', 1, 64))
	}
	return b.String()
}

// trainRange is the span of the points' values (0, 1 for none).
func trainRange(points []trainPoint) (lo, hi float64) {
	if len(points) == 0 {
		return 0, 1
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, p := range points {
		lo, hi = math.Min(lo, p.Y), math.Max(hi, p.Y)
	}
	return lo, hi
}

// trainNum writes a loss with 3 significant digits.
func trainNum(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) }

func (c *trainChart) Render() app.UI {
	lo, hi := trainRange(c.Points)
	xmax := c.XMax
	last, top, bottom := "", "", ""
	if n := len(c.Points); n > 0 {
		xmax = max(xmax, c.Points[n-1].X)
		last, top, bottom = trainNum(c.Points[n-1].Y), trainNum(hi), trainNum(lo)
	}
	return app.Figure().Class("train-chart").ID("chart-"+c.Key).DataSet("series", c.Key).DataSet("points", len(c.Points)).Body(
		app.FigCaption().Body(
			app.Span().Class("train-chart-label").Text(c.Label),
			app.Span().Class("train-chart-value").Text(last),
		),
		app.Div().Class("train-chart-body").Body(
			trainSVG("svg").Attr("viewBox", "0 0 "+strconv.Itoa(trainChartW)+" "+strconv.Itoa(trainChartH)).
				Attr("preserveAspectRatio", "none").Attr("role", "img").
				Aria("label", c.Label+" loss over "+strconv.Itoa(len(c.Points))+" logged steps").Body(
				trainSVG("rect").DataSet("role", "frame").Attr("x", "0.5").Attr("y", "0.5").
					Attr("width", strconv.Itoa(trainChartW-1)).Attr("height", strconv.Itoa(trainChartH-1)),
				trainSVG("polyline").DataSet("role", "curve").DataSet("series", c.Key).
					Attr("points", trainPolyline(c.Points, xmax, lo, hi)).Attr("vector-effect", "non-scaling-stroke"),
			),
			app.Div().Class("train-chart-scale").Body(
				app.Span().Text(top),
				app.Span().Text(bottom),
			),
		),
	)
}
