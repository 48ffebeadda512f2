package capture

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"mgvton/internal/matleak"
)

func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name       string
		file       string
		frames     int
		fps        int
		loop       bool
		read       int // frames to read
		wantFrames int
		wantErr    error // after wantFrames frames; nil: none
		extra      []string
		infoFrames int // Info.Frames if not frames
		ptsStep    int // PTS advance in frames, if not 1
	}{
		{name: "mp4 to the end", file: "a.mp4", frames: 30, fps: 30, read: 100, wantFrames: 30, wantErr: io.EOF},
		{name: "mkv to the end", file: "b.mkv", frames: 20, fps: 25, read: 100, wantFrames: 20, wantErr: io.EOF},
		{name: "loop", file: "c.mp4", frames: 12, fps: 30, loop: true, read: 40, wantFrames: 40},
		// 60 of 180 frames kept, with their times: the frame count OpenCV
		// estimates from duration x rate (178) is three times too high.
		{name: "variable rate mkv", file: "vfr.mkv", frames: 60, fps: 30, read: 300, wantFrames: 60, wantErr: io.EOF,
			extra: []string{"-vf", "select='not(mod(n,3))'", "-fps_mode", "vfr"}, infoFrames: 178, ptsStep: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			matleak.Check(t)
			path := filepath.Join(dir, tt.file)
			makeVideo(t, path, tt.frames, tt.fps, "320x240", tt.extra...)
			src, err := Open(path, Options{Loop: tt.loop})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			want := Info{Name: tt.file, Kind: KindFile, Width: 320, Height: 240, FPS: float64(tt.fps), Frames: tt.frames}
			if tt.infoFrames != 0 {
				want.Frames = tt.infoFrames
			}
			if got := src.Info(); got != want {
				t.Errorf("Info: got %+v; want %+v", got, want)
			}
			r := readAll(t, src, tt.read)
			if r.frames != tt.wantFrames || r.err != tt.wantErr {
				t.Fatalf("read: got %d frames, %v; want %d frames, %v", r.frames, r.err, tt.wantFrames, tt.wantErr)
			}
			if tt.wantErr != nil {
				if f, err := src.Read(); err != tt.wantErr {
					if err == nil {
						f.Mat.Close()
					}
					t.Errorf("read after the end: got %v; want %v again", err, tt.wantErr)
				}
			}
			checkPTS(t, r.pts, float64(tt.fps)/float64(max(1, tt.ptsStep)))
		})
	}
}

// checkPTS wants PTS that start at 0 and advance by one frame at fps.
func checkPTS(t *testing.T, pts []time.Duration, fps float64) {
	t.Helper()
	frame := time.Duration(float64(time.Second) / fps)
	for i, p := range pts {
		want := time.Duration(i) * frame
		if d := p - want; d < -frame/2 || d > frame/2 {
			t.Errorf("PTS of frame %d: got %v; want %v", i, p, want)
			return
		}
	}
}

func TestDemo(t *testing.T) {
	matleak.Check(t)
	assets := t.TempDir()
	makeVideo(t, filepath.Join(assets, DemoFile), 10, 30, "160x120")
	t.Setenv("MGVTON_ASSETS", assets)
	if p, err := DemoPath(); err != nil || p != filepath.Join(assets, DemoFile) {
		t.Fatalf("DemoPath: got %q, %v; want %q", p, err, filepath.Join(assets, DemoFile))
	}
	src, err := Open("demo", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if got := src.Info(); got.Kind != KindDemo || got.Name != "demo" {
		t.Errorf("Info: got %+v; want Kind demo, Name demo", got)
	}
	if r := readAll(t, src, 25); r.err != nil { // the demo always loops
		t.Errorf("read: got %d frames, %v; want 25 frames", r.frames, r.err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.mp4")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a video ", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	// Default MP4 has its index (moov) at the end: cut it off.
	noIndex := filepath.Join(dir, "noindex.mp4")
	full := filepath.Join(dir, "full.mp4")
	makeVideo(t, full, 30, 30, "160x120")
	truncateCopy(t, full, noIndex, 0.7)
	emptyDir := filepath.Join(dir, "empty")
	if err := os.Mkdir(emptyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(emptyDir, "notes.txt"), []byte("no images here"), 0o644); err != nil {
		t.Fatal(err)
	}
	badImage := filepath.Join(dir, "badimage")
	if err := os.Mkdir(badImage, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(badImage, "1.png"), []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MGVTON_ASSETS", emptyDir) // no demo anywhere

	tests := []struct {
		name       string
		spec       string
		want       error // nil: any error
		wantPrefix string
	}{
		{"missing file", filepath.Join(dir, "nope.mp4"), ErrNotFound, "capture: open " + filepath.Join(dir, "nope.mp4") + ": "},
		{"garbage file", garbage, ErrCorrupt, "capture: open " + garbage + ": "},
		{"mp4 without index", noIndex, ErrCorrupt, "capture: open " + noIndex + ": "},
		{"folder without images", emptyDir, ErrNotFound, "capture: open " + emptyDir + ": "},
		{"folder with a broken image", badImage, ErrCorrupt, "capture: open "},
		{"no demo", "demo", ErrNotFound, "capture: find demo "},
		{"missing camera device", "/dev/video77", ErrNotFound, "capture: open /dev/video77: "},
		{"bad camera index", "cam:x", nil, "capture: open cam:x: "},
		{"not a camera", "/dev/null", nil, "capture: open /dev/null: "},
		{"empty spec", "", ErrNotFound, "capture: open: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			matleak.Check(t)
			src, err := Open(tt.spec, Options{})
			if err == nil {
				src.Close()
				t.Fatalf("Open(%q): got no error; want %v", tt.spec, tt.want)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Open(%q): got %v; want an error matching %v", tt.spec, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.wantPrefix) {
				t.Errorf("Open(%q): got message %q; want prefix %q", tt.spec, err, tt.wantPrefix)
			}
			if msg := strings.TrimPrefix(err.Error(), "capture: "); strings.ToLower(msg[:1]) != msg[:1] {
				t.Errorf("Open(%q): got message %q; want lower case", tt.spec, err)
			}
		})
	}
}

// TestOpenCameraHere needs a machine without cameras: opening one must fail
// with a typed error rather than hang or crash.
func TestOpenCameraHere(t *testing.T) {
	matleak.Check(t)
	if _, err := os.Stat("/dev/video0"); err == nil {
		t.Skip("/dev/video0 exists: this test is for machines without a camera")
	}
	for _, spec := range []string{"cam:0", "/dev/video0"} {
		src, err := Open(spec, Options{Width: 640, Height: 480, FPS: 30})
		if err == nil {
			src.Close()
			t.Fatalf("Open(%q): got no error; want ErrNotFound", spec)
		}
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("Open(%q): got %v; want ErrNotFound", spec, err)
		}
	}
}

// TestCameraLost feeds the camera code a capture that stops delivering (a
// file that ends), as an unplugged camera does.
func TestCameraLost(t *testing.T) {
	matleak.Check(t)
	path := filepath.Join(t.TempDir(), "cam.mp4")
	makeVideo(t, path, 5, 30, "160x120")
	vc, err := openVideoFile(path)
	if err != nil {
		t.Fatal(err)
	}
	src := newVideoSource(vc, "/dev/video9", true, Options{}, Info{Name: "camera 9", Kind: KindCamera, Width: 160, Height: 120, FPS: 30})
	defer src.Close()
	r := readAll(t, src, 100)
	if r.frames != 5 || !errors.Is(r.err, ErrCameraLost) {
		t.Fatalf("read: got %d frames, %v; want 5 frames, ErrCameraLost", r.frames, r.err)
	}
	if want := "capture: read /dev/video9: "; !strings.HasPrefix(r.err.Error(), want) {
		t.Errorf("got message %q; want prefix %q", r.err, want)
	}
	if _, err := src.Read(); !errors.Is(err, ErrCameraLost) {
		t.Errorf("read again: got %v; want ErrCameraLost", err)
	}
	for i := range 2 {
		if err := src.Close(); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
	}
}

func TestCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	faststart := filepath.Join(dir, "faststart.mp4")
	makeVideo(t, faststart, 60, 30, "320x240", "-movflags", "+faststart")
	mkv := filepath.Join(dir, "whole.mkv")
	makeVideo(t, mkv, 60, 30, "320x240")

	tests := []struct {
		name   string
		file   string
		make   func(path string)
		want   error // nil: io.EOF or ErrCorrupt, but an end
		before int   // fewer frames than this
	}{
		{"truncated mp4 with index in front", "t.mp4", func(p string) { truncateCopy(t, faststart, p, 0.5) }, ErrCorrupt, 60},
		{"truncated mkv", "t.mkv", func(p string) { truncateCopy(t, mkv, p, 0.5) }, ErrCorrupt, 60},
		{"garbage in the middle", "g.mp4", func(p string) { scribbleCopy(t, faststart, p) }, nil, 61},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			matleak.Check(t)
			path := filepath.Join(dir, tt.file)
			tt.make(path)
			src, err := Open(path, Options{Loop: true}) // a loop must not hide the damage
			if err != nil {
				if tt.want != nil && errors.Is(err, tt.want) {
					return // refused at open: fine too
				}
				t.Fatalf("Open: %v", err)
			}
			defer src.Close()
			done := make(chan readResult, 1)
			go func() { done <- readAll(t, src, 1000) }()
			var r readResult
			select {
			case r = <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("reading a damaged file hangs")
			}
			if r.frames >= tt.before {
				t.Errorf("read %d frames; want fewer than %d", r.frames, tt.before)
			}
			switch {
			case tt.want != nil && !errors.Is(r.err, tt.want):
				t.Errorf("read: got %v after %d frames; want %v", r.err, r.frames, tt.want)
			case tt.want == nil && r.err != io.EOF && !errors.Is(r.err, ErrCorrupt):
				t.Errorf("read: got %v after %d frames; want io.EOF or ErrCorrupt", r.err, r.frames)
			}
			t.Logf("%d frames, then %v", r.frames, r.err)
		})
	}
}

// truncateCopy copies the first fraction of src to dst.
func truncateCopy(tb testing.TB, src, dst string, fraction float64) {
	tb.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(dst, b[:int(float64(len(b))*fraction)], 0o644); err != nil {
		tb.Fatal(err)
	}
}

// scribbleCopy copies src to dst with a stretch of garbage in the middle.
func scribbleCopy(tb testing.TB, src, dst string) {
	tb.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	for i := len(b) * 2 / 5; i < len(b)*3/5; i++ {
		b[i] = byte(i * 7919)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}

func TestFolder(t *testing.T) {
	dir := t.TempDir()
	colours := map[string]float64{"1.png": 10, "2.jpg": 60, "10.png": 110, "frame-002.png": 160}
	for name, v := range colours {
		w, h := 64, 48
		if name == "10.png" {
			w, h = 128, 96 // resized to the first image's size
		}
		writeImage(t, filepath.Join(dir, name), w, h, gocv.NewScalar(v, v, v, 0))
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored"), 0o644); err != nil {
		t.Fatal(err)
	}
	order := []string{"1.png", "2.jpg", "10.png", "frame-002.png"}

	tests := []struct {
		name    string
		opts    Options
		read    int
		wantErr error
	}{
		{"once", Options{FPS: 12}, 10, io.EOF},
		{"loop", Options{FPS: 12, Loop: true}, 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			matleak.Check(t)
			src, err := Open(dir, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			want := Info{Name: filepath.Base(dir), Kind: KindFolder, Width: 64, Height: 48, FPS: 12, Frames: 4}
			if got := src.Info(); got != want {
				t.Errorf("Info: got %+v; want %+v", got, want)
			}
			var got []float64
			var pts []time.Duration
			var err2 error
			for range tt.read {
				f, err := src.Read()
				if err != nil {
					err2 = err
					break
				}
				if f.Mat.Cols() != 64 || f.Mat.Rows() != 48 {
					t.Errorf("frame %d: got %dx%d; want 64x48", f.Seq, f.Mat.Cols(), f.Mat.Rows())
				}
				got = append(got, f.Mat.Mean().Val1)
				pts = append(pts, f.PTS)
				f.Mat.Close()
			}
			if err2 != tt.wantErr {
				t.Errorf("read: got %v; want %v", err2, tt.wantErr)
			}
			for i, v := range got {
				if w := colours[order[i%len(order)]]; v < w-3 || v > w+3 {
					t.Errorf("frame %d: got mean %.1f; want %.0f (%s)", i, v, w, order[i%len(order)])
				}
			}
			checkPTS(t, pts, 12)
		})
	}
}

func TestRealTime(t *testing.T) {
	dir := t.TempDir()
	video := filepath.Join(dir, "rt.mp4")
	makeVideo(t, video, 16, 30, "160x120")
	images := filepath.Join(dir, "images")
	if err := os.Mkdir(images, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		writeImage(t, filepath.Join(images, string(rune('a'+i))+".png"), 32, 24, gocv.NewScalar(0, 0, 0, 0))
	}
	tests := []struct {
		name   string
		spec   string
		opts   Options
		frames int
		want   time.Duration // duration of frames-1 intervals
	}{
		{"file at 30 fps", video, Options{RealTime: true}, 16, 15 * time.Second / 30},
		{"folder at 20 fps", images, Options{RealTime: true, FPS: 20}, 6, 5 * time.Second / 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			matleak.Check(t)
			src, err := Open(tt.spec, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			var first, last time.Time
			for i := range tt.frames {
				f, err := src.Read()
				if err != nil {
					t.Fatal(err)
				}
				f.Mat.Close()
				if i == 0 {
					first = f.Time
				}
				last = f.Time
			}
			// Loose bounds: only "paced, roughly at its rate" is the contract.
			if got := last.Sub(first); got < tt.want*8/10 || got > tt.want*5 {
				t.Errorf("%d frames took %v; want about %v", tt.frames, got, tt.want)
			}
		})
	}
}

// TestCloseInterruptsRead closes a source while Read waits for the next
// frame's time: Read must return ErrClosed at once.
func TestCloseInterruptsRead(t *testing.T) {
	matleak.Check(t)
	dir := t.TempDir()
	for i := range 3 {
		writeImage(t, filepath.Join(dir, string(rune('a'+i))+".png"), 32, 24, gocv.NewScalar(0, 0, 0, 0))
	}
	src, err := Open(dir, Options{RealTime: true, FPS: 0.2}) // a frame every 5 s
	if err != nil {
		t.Fatal(err)
	}
	f, err := src.Read()
	if err != nil {
		t.Fatal(err)
	}
	f.Mat.Close()
	errc := make(chan error, 1)
	go func() {
		f, err := src.Read()
		if err == nil {
			f.Mat.Close()
		}
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	if err := src.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Read: got %v; want ErrClosed", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Read still blocked 3 s after Close")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	if err := src.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := src.Read(); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: got %v; want ErrClosed", err)
	}
}

func TestNaturalCompare(t *testing.T) {
	got := []string{"frame10.png", "frame2.png", "frame1.png", "b.png", "a10.png", "a9.png", "frame02.png", "10.png", "9.png"}
	slices.SortFunc(got, naturalCompare)
	want := []string{"9.png", "10.png", "a9.png", "a10.png", "b.png", "frame1.png", "frame2.png", "frame02.png", "frame10.png"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v; want %v", got, want)
	}
}
