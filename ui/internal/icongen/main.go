// Command icongen draws mgvton's app icon (a white T-shirt on a violet to
// pink rounded square) and writes it as PNG. Run through go generate in
// package ui:
//
//	go run ./internal/icongen -o icon.png
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
)

// shirt is the T-shirt outline in unit coordinates, clockwise from the left
// side of the neck.
var shirt = [][2]float64{
	{0.37, 0.22}, {0.41, 0.265}, {0.46, 0.29}, {0.50, 0.295}, {0.54, 0.29}, {0.59, 0.265}, {0.63, 0.22},
	{0.81, 0.285}, {0.915, 0.47}, {0.785, 0.535}, {0.735, 0.45},
	{0.735, 0.80}, {0.265, 0.80},
	{0.265, 0.45}, {0.215, 0.535}, {0.085, 0.47}, {0.19, 0.285},
}

func main() {
	out := flag.String("o", "icon.png", "output PNG")
	size := flag.Int("size", 256, "width and height in pixels")
	flag.Parse()
	if err := write(*out, draw(*size)); err != nil {
		fmt.Fprintln(os.Stderr, "icongen:", err)
		os.Exit(1)
	}
}

func write(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// draw renders the icon with 4x4 supersampling per pixel.
func draw(n int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	const ss = 4
	top := [3]float64{0x7c, 0x5c, 0xff}
	bot := [3]float64{0xff, 0x5c, 0x8a}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			var bg, fg float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					u := (float64(x) + (float64(sx)+0.5)/ss) / float64(n)
					v := (float64(y) + (float64(sy)+0.5)/ss) / float64(n)
					if inRoundedSquare(u, v, 0.04, 0.2) {
						bg++
						if inPolygon(u, v, shirt) {
							fg++
						}
					}
				}
			}
			bg /= ss * ss
			fg /= ss * ss
			if bg == 0 {
				continue
			}
			t := (float64(x) + float64(y)) / float64(2*n) // diagonal gradient
			var c [3]float64
			for i := range c {
				g := top[i]*(1-t) + bot[i]*t
				c[i] = g*(bg-fg)/bg + 255*fg/bg // white shirt over the gradient
			}
			img.SetNRGBA(x, y, color.NRGBA{uint8(c[0]), uint8(c[1]), uint8(c[2]), uint8(math.Round(255 * bg))})
		}
	}
	return img
}

// inRoundedSquare reports whether (u, v) lies in the square inset by margin
// with corners of radius r.
func inRoundedSquare(u, v, margin, r float64) bool {
	lo, hi := margin+r, 1-margin-r
	dx := math.Max(0, math.Max(lo-u, u-hi))
	dy := math.Max(0, math.Max(lo-v, v-hi))
	if u < margin || u > 1-margin || v < margin || v > 1-margin {
		return false
	}
	return dx*dx+dy*dy <= r*r
}

// inPolygon is the even-odd ray casting test.
func inPolygon(u, v float64, p [][2]float64) bool {
	in := false
	for i, j := 0, len(p)-1; i < len(p); j, i = i, i+1 {
		xi, yi, xj, yj := p[i][0], p[i][1], p[j][0], p[j][1]
		if (yi > v) != (yj > v) && u < (xj-xi)*(v-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}
