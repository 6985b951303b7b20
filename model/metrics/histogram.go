package metrics

import (
	"fmt"
	"math"
)

// Histogram counts values in equal-width bins over [Min, Max]. Bin i covers
// [Min + i·w, Min + (i+1)·w) with w = (Max−Min)/len(Counts); the last bin also holds
// Max itself, as numpy.histogram does. Values outside [Min, Max] are not binned but
// counted in Below and Above, so that a plot can show that scores ran off its range;
// NaN values are ignored.
type Histogram struct {
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Counts []int   `json:"counts"`
	Below  int     `json:"below"`
	Above  int     `json:"above"`
}

// NewHistogram bins values into bins equal-width bins over [min, max]. When min == max
// (all scores equal, say) the range is widened to [min−0.5, max+0.5], as numpy does. It
// panics when bins < 1, min > max or a bound is not finite.
func NewHistogram(values []float64, min, max float64, bins int) Histogram {
	if bins < 1 {
		panic(fmt.Sprintf("metrics: histogram needs at least 1 bin, got %d", bins))
	}
	if math.IsNaN(min) || math.IsNaN(max) || math.IsInf(min, 0) || math.IsInf(max, 0) || min > max {
		panic(fmt.Sprintf("metrics: histogram range [%v, %v] is not a finite interval", min, max))
	}
	if min == max {
		min, max = min-0.5, max+0.5
	}
	h := Histogram{Min: min, Max: max, Counts: make([]int, bins)}
	scale := float64(bins) / (max - min)
	for _, v := range values {
		switch {
		case math.IsNaN(v):
		case v < min:
			h.Below++
		case v > max:
			h.Above++
		default:
			i := int((v - min) * scale)
			if i >= bins { // v == max, or rounding just below it
				i = bins - 1
			}
			h.Counts[i]++
		}
	}
	return h
}

// Edges returns the len(Counts)+1 bin edges from Min to Max.
func (h Histogram) Edges() []float64 {
	n := len(h.Counts)
	e := make([]float64, n+1)
	for i := range e {
		e[i] = h.Min + (h.Max-h.Min)*float64(i)/float64(n)
	}
	e[n] = h.Max
	return e
}

// Total returns the number of binned values (Below and Above excluded).
func (h Histogram) Total() int {
	t := 0
	for _, c := range h.Counts {
		t += c
	}
	return t
}
