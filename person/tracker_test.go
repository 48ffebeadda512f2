package person

import (
	"image"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"mgvton/internal/matleak"
	"mgvton/internal/repotest"
)

// newTestTracker makes a tracker on the repository's models, closed at the
// end of the test.
func newTestTracker(tb testing.TB, o Options) *Tracker {
	tb.Helper()
	o.Dir = repotest.PersonModels(tb)
	o.LibraryPath = repotest.LibraryPath(tb)
	tr, err := New(o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { tr.Close() })
	return tr
}

func readImage(tb testing.TB, path string) gocv.Mat {
	tb.Helper()
	m := gocv.IMRead(path, gocv.IMReadColor)
	if m.Empty() {
		tb.Fatalf("read %s: empty", path)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

func TestNewMissingOrCorruptModel(t *testing.T) {
	dir := t.TempDir()
	_, err := New(Options{Dir: dir, LibraryPath: repotest.LibraryPath(t)})
	if err == nil || !strings.Contains(err.Error(), DetectorFile) || strings.Contains(err.Error(), "\n") {
		t.Errorf("empty folder: got %v; want a one-line error naming %s", err, DetectorFile)
	}
	// A corrupt landmark graph beside a good detector.
	src := repotest.PersonModels(t)
	data, err := os.ReadFile(filepath.Join(src, DetectorFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, DetectorFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, LandmarkFullFile), []byte("not a graph"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = New(Options{Dir: dir, LibraryPath: repotest.LibraryPath(t)})
	if err == nil || !strings.Contains(err.Error(), LandmarkFullFile) || strings.Contains(err.Error(), "\n") {
		t.Errorf("corrupt landmark graph: got %v; want a one-line error naming %s", err, LandmarkFullFile)
	}
}

func TestTrackNobody(t *testing.T) {
	matleak.Check(t)
	tr := newTestTracker(t, Options{})
	blank := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(120, 130, 140, 0), 480, 640, gocv.MatTypeCV8UC3)
	defer blank.Close()
	frames := []gocv.Mat{blank}
	for _, name := range nobodyImages {
		frames = append(frames, readImage(t, filepath.Join("testdata", name)))
	}
	for i, f := range frames {
		p, ok, err := tr.Track(f)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			t.Errorf("frame %d (nobody in it): found a person, score %.2f at %v", i, p.Score, p.ROI)
			p.Close()
		}
	}
}

// checkBody checks the anatomy of a found person: head above shoulders
// above hips, left and right on the expected sides for a person facing the
// camera, a mask that covers the torso and not the frame's corners.
func checkBody(t *testing.T, name string, p Person, w, h int) {
	t.Helper()
	k := p.Keypoints
	shY := (k[LeftShoulder].Y + k[RightShoulder].Y) / 2
	hipY := (k[LeftHip].Y + k[RightHip].Y) / 2
	if !(k[Nose].Y < shY && shY < hipY) {
		t.Errorf("%s: nose y %.0f, shoulders %.0f, hips %.0f; want them top to bottom", name, k[Nose].Y, shY, hipY)
	}
	if p.Mask.Cols() != w || p.Mask.Rows() != h || p.Mask.Type() != gocv.MatTypeCV8UC1 {
		t.Fatalf("%s: mask %dx%d type %v; want %dx%d 8UC1", name, p.Mask.Cols(), p.Mask.Rows(), p.Mask.Type(), w, h)
	}
	// The chest (between the shoulders, a little below them) is person.
	cx := int((k[LeftShoulder].X + k[RightShoulder].X) / 2)
	cy := int(shY + 0.15*math.Abs(k[LeftShoulder].X-k[RightShoulder].X))
	if image.Pt(cx, cy).In(image.Rect(0, 0, w, h)) {
		if v := p.Mask.GetUCharAt(cy, cx); v < 128 {
			t.Errorf("%s: mask at the chest (%d,%d) = %d; want person (>= 128)", name, cx, cy, v)
		}
	}
}

// BenchmarkTrack times the tracker per frame on the demo clip's frames
// (640x480): the landmark model, the mask at frame resolution and the
// filter (the detector only runs on the first frame), and each graph alone.
func BenchmarkTrack(b *testing.B) {
	vc, err := gocv.VideoCaptureFile("../assets/demo.mp4")
	if err != nil {
		b.Fatal(err)
	}
	var frames []gocv.Mat
	for i := 0; i < 30; i++ {
		m := gocv.NewMat()
		if !vc.Read(&m) || m.Empty() {
			m.Close()
			break
		}
		frames = append(frames, m)
	}
	vc.Close()
	b.Cleanup(func() {
		for _, m := range frames {
			m.Close()
		}
	})
	for _, c := range []struct {
		name string
		o    Options
	}{
		{"full+landmark-mask", Options{}},
		{"lite+landmark-mask", Options{Lite: true}},
		{"full+selfie-mask", Options{Segmentation: SegSelfie}},
		{"full+no-mask", Options{Segmentation: SegOff}},
		{"full+landmark-mask+2threads", Options{Threads: 2}},
		{"lite+landmark-mask+2threads", Options{Lite: true, Threads: 2}},
	} {
		b.Run(c.name, func(b *testing.B) {
			tr := newTestTracker(b, c.o)
			b.ReportAllocs()
			var sum Timings
			// CPU time of this thread, which runs the graphs (one intra-op
			// thread): steadier than wall time on a shared machine.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0 := threadCPU()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p, _, err := tr.TrackAt(frames[i%len(frames)], time.Duration(i)*time.Second/30)
				if err != nil {
					b.Fatal(err)
				}
				p.Close()
				t := tr.Timings()
				sum.Detector += t.Detector
				sum.Landmark += t.Landmark
				sum.Selfie += t.Selfie
			}
			n := float64(b.N)
			if c.o.Threads <= 1 {
				b.ReportMetric(float64((threadCPU()-cpu0).Microseconds())/n/1000, "cpu-ms/op")
			}
			b.ReportMetric(float64(sum.Landmark.Microseconds())/n/1000, "landmark-ms/op")
			b.ReportMetric(float64(sum.Detector.Microseconds())/n/1000, "detector-ms/op")
			if c.o.Segmentation == SegSelfie {
				b.ReportMetric(float64(sum.Selfie.Microseconds())/n/1000, "selfie-ms/op")
			}
		})
	}
	b.Run("detector", func(b *testing.B) {
		tr := newTestTracker(b, Options{})
		gocv.CvtColor(frames[0], &tr.rgb, gocv.ColorBGRToRGB)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cpu0 := threadCPU()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, _, err := tr.detect(frames[0].Cols(), frames[0].Rows()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((threadCPU()-cpu0).Microseconds())/float64(b.N)/1000, "cpu-ms/op")
	})
}

// threadCPU returns the CPU time the calling OS thread has used.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1, &ru); err != nil { // 1: RUSAGE_THREAD
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestTrackRealPhotos tracks the people in the reference photos: anatomy,
// mask, and the tracking cycle (detector once, then the landmark model
// alone; back to the detector after the person is lost).
func TestTrackRealPhotos(t *testing.T) {
	matleak.Check(t)
	tr := newTestTracker(t, Options{})
	nobody := readImage(t, filepath.Join("testdata", nobodyImages[0]))
	for _, name := range []string{"messi5.jpg", "basketball1.jpg", "grace_hopper.jpg"} {
		img := readImage(t, filepath.Join("testdata", name))
		tr.Reset()
		for i := 0; i < 3; i++ {
			p, ok, err := tr.TrackAt(img, time.Duration(i)*time.Second/30)
			if err != nil || !ok {
				t.Fatalf("%s frame %d: got %v %v; want a person", name, i, ok, err)
			}
			if p.Detected != (i == 0) {
				t.Errorf("%s frame %d: Detected %v; want the detector on the first frame only", name, i, p.Detected)
			}
			if name != "grace_hopper.jpg" { // a portrait: no hips in the picture
				checkBody(t, name, p, img.Cols(), img.Rows())
			}
			p.Close()
		}
		// A cut to a photo of nobody: lost at the latest when the detector
		// rechecks, then found again by the detector.
		lostAt := -1
		for i := 0; i <= tr.opts.Recheck && lostAt < 0; i++ {
			p, ok, err := tr.Track(nobody)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				lostAt = i
			}
			p.Close()
		}
		if lostAt < 0 {
			t.Errorf("%s: nobody photo after a person: still tracked after %d frames", name, tr.opts.Recheck+1)
		}
		p, ok, err := tr.Track(img)
		if err != nil || !ok || !p.Detected {
			t.Errorf("%s after a loss: got found %v detected %v err %v; want found by the detector", name, ok, p.Detected, err)
		}
		p.Close()
	}
}

// TestTrackFollowsTheLargestCentralPerson: basketball1.jpg has a player in
// full view on the left and a larger one cut by the right edge. Mirrored,
// the choice must mirror too (the same person is followed).
func TestTrackFollowsTheLargestCentralPerson(t *testing.T) {
	matleak.Check(t)
	tr := newTestTracker(t, Options{NoSmoothing: true})
	img := readImage(t, filepath.Join("testdata", "basketball1.jpg"))
	p, ok, err := tr.Track(img)
	if err != nil || !ok {
		t.Fatalf("got %v %v; want a person", ok, err)
	}
	x := p.Keypoints[Nose].X
	p.Close()
	flipped := gocv.NewMat()
	defer flipped.Close()
	gocv.Flip(img, &flipped, 1)
	tr.Reset()
	q, ok, err := tr.Track(flipped)
	if err != nil || !ok {
		t.Fatalf("mirrored: got %v %v; want a person", ok, err)
	}
	defer q.Close()
	if mx := float64(img.Cols()-1) - q.Keypoints[Nose].X; math.Abs(mx-x) > 10 {
		t.Errorf("mirrored photo: nose at %.0f (unmirrored %.0f); want the same person as at %.0f", q.Keypoints[Nose].X, mx, x)
	}
}

// The tests find the models through repotest, which names the variable
// itself (it may not import this package).
func TestRepotestNamesTheModelsVariable(t *testing.T) {
	if repotest.PersonModelsEnv != ModelDirEnv {
		t.Errorf("repotest.PersonModelsEnv = %q; the tracker reads %q", repotest.PersonModelsEnv, ModelDirEnv)
	}
}
