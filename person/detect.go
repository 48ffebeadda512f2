package person

import (
	"math"
	"sort"
)

// The BlazePose detector's decoding, as MediaPipe's pose_detection graph
// configures it: SSD anchors (SsdAnchorsCalculator), box and keypoint
// regression relative to the anchors, sigmoid scores, weighted
// non-maximum suppression.

// anchorOptions are the SSD anchor options of the pose detector.
type anchorOptions struct {
	NumLayers             int
	MinScale, MaxScale    float64
	InputW, InputH        int
	OffsetX, OffsetY      float64
	Strides               []int
	AspectRatios          []float64
	InterpolatedAspect    float64
	FixedAnchorSize       bool
	ReduceBoxesInLowLayer bool
}

// poseAnchorOptions are pose_detection's anchor options (2254 anchors).
func poseAnchorOptions() anchorOptions {
	return anchorOptions{NumLayers: 5, MinScale: 0.1484375, MaxScale: 0.75, InputW: 224, InputH: 224,
		OffsetX: 0.5, OffsetY: 0.5, Strides: []int{8, 16, 32, 32, 32}, AspectRatios: []float64{1},
		InterpolatedAspect: 1, FixedAnchorSize: true}
}

// anchor is one SSD anchor in normalised detector-input coordinates.
type anchor struct{ X, Y, W, H float64 }

func anchorScale(minS, maxS float64, i, n int) float64 {
	if n == 1 {
		return (minS + maxS) / 2
	}
	return minS + (maxS-minS)*float64(i)/float64(n-1)
}

// ssdAnchors generates the anchors in the order the detector's outputs use:
// layer groups of equal stride, then rows, columns, anchors per cell.
func ssdAnchors(o anchorOptions) []anchor {
	var out []anchor
	for layer := 0; layer < o.NumLayers; {
		var ws, hs []float64
		last := layer
		for last < o.NumLayers && o.Strides[last] == o.Strides[layer] {
			scale := anchorScale(o.MinScale, o.MaxScale, last, o.NumLayers)
			if last == 0 && o.ReduceBoxesInLowLayer {
				for _, ar := range []float64{1, 2, 0.5} {
					s := scale
					if ar == 1 {
						s = 0.1
					}
					ws = append(ws, s*math.Sqrt(ar))
					hs = append(hs, s/math.Sqrt(ar))
				}
			} else {
				for _, ar := range o.AspectRatios {
					ws = append(ws, scale*math.Sqrt(ar))
					hs = append(hs, scale/math.Sqrt(ar))
				}
				if o.InterpolatedAspect > 0 {
					next := 1.0
					if last != o.NumLayers-1 {
						next = anchorScale(o.MinScale, o.MaxScale, last+1, o.NumLayers)
					}
					s := math.Sqrt(scale * next)
					ws = append(ws, s*math.Sqrt(o.InterpolatedAspect))
					hs = append(hs, s/math.Sqrt(o.InterpolatedAspect))
				}
			}
			last++
		}
		stride := o.Strides[layer]
		fh := int(math.Ceil(float64(o.InputH) / float64(stride)))
		fw := int(math.Ceil(float64(o.InputW) / float64(stride)))
		for y := 0; y < fh; y++ {
			for x := 0; x < fw; x++ {
				for k := range ws {
					a := anchor{X: (float64(x) + o.OffsetX) / float64(fw), Y: (float64(y) + o.OffsetY) / float64(fh), W: ws[k], H: hs[k]}
					if o.FixedAnchorSize {
						a.W, a.H = 1, 1
					}
					out = append(out, a)
				}
			}
		}
		layer = last
	}
	return out
}

// detectorKeypoints is the number of keypoints per pose detection: hip
// midpoint, a point on the circle around the whole body (its radius sets
// the scale), shoulder midpoint, a point on the circle around the upper
// body.
const detectorKeypoints = 4

// detection is one decoded detection in normalised detector-input (or,
// after unletterbox, frame) coordinates.
type detection struct {
	XMin, YMin, W, H float64
	Score            float64
	KP               [detectorKeypoints][2]float64
}

// decodeOptions are pose_detection's TensorsToDetections options.
type decodeOptions struct {
	Scale          float64 // x, y, w, h scale: the input size (224)
	ScoreClip      float64
	MinScore       float64
	NumCoords      int // 12: box (4) + 4 keypoints x 2
	MinSuppression float64
}

func poseDecodeOptions() decodeOptions {
	return decodeOptions{Scale: 224, ScoreClip: 100, MinScore: 0.5, NumCoords: 12, MinSuppression: 0.3}
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// decodeDetections turns the raw regressors (n x NumCoords) and score
// logits (n) into the detections above MinScore, before suppression.
func decodeDetections(boxes, scores []float32, anchors []anchor, o decodeOptions) []detection {
	var out []detection
	for i, a := range anchors {
		s := float64(scores[i])
		s = max(-o.ScoreClip, min(o.ScoreClip, s))
		s = sigmoid(s)
		if s < o.MinScore {
			continue
		}
		r := boxes[i*o.NumCoords : (i+1)*o.NumCoords]
		xc := float64(r[0])/o.Scale*a.W + a.X
		yc := float64(r[1])/o.Scale*a.H + a.Y
		w := float64(r[2]) / o.Scale * a.W
		h := float64(r[3]) / o.Scale * a.H
		d := detection{XMin: xc - w/2, YMin: yc - h/2, W: w, H: h, Score: s}
		for k := 0; k < detectorKeypoints; k++ {
			d.KP[k][0] = float64(r[4+2*k])/o.Scale*a.W + a.X
			d.KP[k][1] = float64(r[4+2*k+1])/o.Scale*a.H + a.Y
		}
		out = append(out, d)
	}
	return out
}

func iou(a, b detection) float64 {
	x0, y0 := max(a.XMin, b.XMin), max(a.YMin, b.YMin)
	x1, y1 := min(a.XMin+a.W, b.XMin+b.W), min(a.YMin+a.H, b.YMin+b.H)
	if x1 <= x0 || y1 <= y0 {
		return 0
	}
	inter := (x1 - x0) * (y1 - y0)
	union := a.W*a.H + b.W*b.H - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}

// weightedNMS is MediaPipe's weighted non-maximum suppression: detections
// are taken by falling score; each one absorbs the remaining detections
// that overlap it by more than threshold (IoU), and its box and keypoints
// become their score-weighted mean (its score stays the highest).
func weightedNMS(dets []detection, threshold float64) []detection {
	rest := append([]detection(nil), dets...)
	sort.SliceStable(rest, func(i, j int) bool { return rest[i].Score > rest[j].Score })
	var out []detection
	for len(rest) > 0 {
		top := rest[0]
		keep := rest[:0:0]
		sum := top.Score
		acc := top.scaled(top.Score)
		for _, d := range rest[1:] {
			if iou(top, d) > threshold {
				sum += d.Score
				acc = acc.plus(d.scaled(d.Score))
			} else {
				keep = append(keep, d)
			}
		}
		m := acc.scaled(1 / sum)
		m.Score = top.Score
		out = append(out, m)
		rest = keep
	}
	return out
}

// scaled multiplies the box and keypoints by w (for weighted means).
func (d detection) scaled(w float64) detection {
	o := detection{XMin: d.XMin * w, YMin: d.YMin * w, W: d.W * w, H: d.H * w, Score: d.Score}
	for k := range d.KP {
		o.KP[k] = [2]float64{d.KP[k][0] * w, d.KP[k][1] * w}
	}
	return o
}

// plus adds the box and keypoints of e to d.
func (d detection) plus(e detection) detection {
	d.XMin, d.YMin, d.W, d.H = d.XMin+e.XMin, d.YMin+e.YMin, d.W+e.W, d.H+e.H
	for k := range d.KP {
		d.KP[k][0] += e.KP[k][0]
		d.KP[k][1] += e.KP[k][1]
	}
	return d
}
