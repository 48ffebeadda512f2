package person

import "math"

// oneEuro is a One-Euro filter (Casiez et al., CHI 2012) as MediaPipe's
// landmark smoothing uses it: the derivative is measured in units of the
// object's size (valueScale = 1 / object size), so the same settings steady
// a person near the camera and one far away.
type oneEuro struct {
	minCutoff, beta, dCutoff float64

	x, dx  float64
	primed bool
	lastT  float64 // seconds
}

func alpha(cutoff, dt float64) float64 {
	tau := 1 / (2 * math.Pi * cutoff)
	return 1 / (1 + tau/dt)
}

// filter returns the filtered value of v at time t (seconds).
func (f *oneEuro) filter(v, valueScale, t float64) float64 {
	if !f.primed || t <= f.lastT {
		if !f.primed {
			f.x, f.dx, f.primed = v, 0, true
		}
		f.lastT = t
		return f.x
	}
	dt := t - f.lastT
	f.lastT = t
	d := (v - f.x) * valueScale / dt
	f.dx += alpha(f.dCutoff, dt) * (d - f.dx)
	cutoff := f.minCutoff + f.beta*math.Abs(f.dx)
	f.x += alpha(cutoff, dt) * (v - f.x)
	return f.x
}

// reset forgets the history (the person was lost).
func (f *oneEuro) reset() { f.primed = false }
