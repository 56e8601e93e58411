package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// Point is one measurement: work done (x) and seconds taken (y).
type Point struct {
	X, Y float64
}

// Curve is a named series of points, drawn in one colour.
type Curve struct {
	Name   string
	Colour string
	Points []Point
}

// PlotSVG draws curves on linear axes from zero, with a dashed line through
// the origin and the last point of the first curve: a cost growing
// linearly with the work lies on it.
func PlotSVG(w io.Writer, title, xLabel, yLabel string, curves []Curve) error {
	const width, height, left, right, top, bottom = 720.0, 440.0, 70.0, 20.0, 40.0, 60.0
	maxX, maxY := 0.0, 0.0
	for _, c := range curves {
		for _, p := range c.Points {
			maxX, maxY = math.Max(maxX, p.X), math.Max(maxY, p.Y)
		}
	}
	if maxX <= 0 || maxY <= 0 {
		return fmt.Errorf("plot %q: no positive points", title)
	}
	maxX, maxY = niceCeil(maxX), niceCeil(maxY)
	px := func(x float64) float64 { return left + x/maxX*(width-left-right) }
	py := func(y float64) float64 { return height - bottom - y/maxY*(height-top-bottom) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%.0f" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", left, escape(title))
	// Axes, grid and ticks.
	for i := 0; i <= 5; i++ {
		x, y := maxX*float64(i)/5, maxY*float64(i)/5
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", px(x), py(0), px(x), py(maxY))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", px(0), py(y), px(maxX), py(y))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", px(x), py(0)+18, short(x))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", px(0)-6, py(y)+4, short(y))
	}
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", px(0), py(0), px(maxX), py(0))
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n", px(0), py(0), px(0), py(maxY))
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", (px(0)+px(maxX))/2, height-18, escape(xLabel))
	fmt.Fprintf(&b, `<text x="16" y="%.1f" text-anchor="middle" transform="rotate(-90 16 %.1f)">%s</text>`+"\n", (py(0)+py(maxY))/2, (py(0)+py(maxY))/2, escape(yLabel))
	// The linear reference.
	if first := curves[0].Points; len(first) > 0 {
		last := first[len(first)-1]
		slope := last.Y / last.X
		x2 := math.Min(maxX, maxY/slope)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888" stroke-dasharray="5,4"/>`+"\n", px(0), py(0), px(x2), py(slope*x2))
	}
	for i, c := range curves {
		var pts []string
		for _, p := range c.Points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(p.X), py(p.Y)))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), c.Colour)
		for _, p := range c.Points {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s"><title>%s: %s, %.2f s</title></circle>`+"\n", px(p.X), py(p.Y), c.Colour, escape(c.Name), short(p.X), p.Y)
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="12" height="12" fill="%s"/><text x="%.1f" y="%.1f">%s</text>`+"\n",
			left+12, top+8+float64(i)*18, c.Colour, left+30, top+18+float64(i)*18, escape(c.Name))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#666">dashed: linear in the work, through the last %s point</text>`+"\n", left+12, top+14+float64(len(curves))*18, escape(curves[0].Name))
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// short writes a number with an SI suffix: 1.5M, 20k, 3.
func short(v float64) string {
	switch {
	case v >= 1e9:
		return trim(v/1e9) + "G"
	case v >= 1e6:
		return trim(v/1e6) + "M"
	case v >= 1e3:
		return trim(v/1e3) + "k"
	}
	return trim(v)
}

func trim(v float64) string {
	s := fmt.Sprintf("%.1f", v)
	return strings.TrimSuffix(s, ".0")
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
