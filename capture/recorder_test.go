package capture

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"mgvton/internal/matleak"
)

// recFrame is one Write of a recorder test: when, what size and type.
type recFrame struct {
	at   time.Duration // since the first frame
	size image.Point
	typ  gocv.MatType
}

func steady(n int, fps float64, size image.Point) []recFrame {
	var fs []recFrame
	for k := range n {
		fs = append(fs, recFrame{at: time.Duration(float64(k) * float64(time.Second) / fps), size: size, typ: gocv.MatTypeCV8UC3})
	}
	return fs
}

// irregular: gaps of 5 to 90 ms, one stall of half a second, about 2 s.
func irregular(size image.Point) []recFrame {
	rng := rand.New(rand.NewPCG(1, 2))
	var fs []recFrame
	at := time.Duration(0)
	for k := 0; at < 2*time.Second; k++ {
		fs = append(fs, recFrame{at: at, size: size, typ: gocv.MatTypeCV8UC3})
		at += time.Duration(5+rng.IntN(86)) * time.Millisecond
		if k == 20 {
			at += 500 * time.Millisecond
		}
	}
	return fs
}

// level is the grey of input frame k: far from its neighbours', so that the
// frame an output picture shows can be told from its mean.
func level(k int) float64 { return float64(20 + (k*67)%200) }

// frameMat makes input frame k: a uniform grey of the given size and type.
func frameMat(k int, f recFrame) gocv.Mat {
	v := level(k)
	m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(v, v, v, 255), f.size.Y, f.size.X, f.typ)
	return m
}

func TestRecorderClips(t *testing.T) {
	needTool(t, "ffmpeg")
	vga, qvga := image.Pt(640, 480), image.Pt(320, 240)
	mixed := steady(30, 30, image.Pt(321, 241)) // odd: rounded down to 320x240
	for k := range mixed {
		switch k % 3 {
		case 1:
			mixed[k].size, mixed[k].typ = vga, gocv.MatTypeCV8UC4
		case 2:
			mixed[k].size, mixed[k].typ = image.Pt(160, 120), gocv.MatTypeCV8UC1
		}
	}
	tests := []struct {
		name     string
		opts     RecorderOptions
		frames   []recFrame
		wantSize image.Point
		wantRate string
	}{
		{"steady 30 fps", RecorderOptions{}, steady(45, 30, qvga), qvga, "30/1"},
		{"steady 60 fps into 30", RecorderOptions{}, steady(60, 60, qvga), qvga, "30/1"},
		{"irregular into 25 fps", RecorderOptions{FPS: 25}, irregular(qvga), qvga, "25/1"},
		{"sizes and pixel types", RecorderOptions{}, mixed, qvga, "30/1"},
		{"explicit size", RecorderOptions{Width: 200, Height: 150}, steady(20, 30, vga), image.Pt(200, 150), "30/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			matleak.Check(t)
			path := filepath.Join(t.TempDir(), "clip.mp4")
			r, err := NewRecorder(path, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Now()
			for k, f := range tt.frames {
				m := frameMat(k, f)
				err := r.Write(m, t0.Add(f.at))
				m.Close()
				if err != nil {
					t.Fatalf("Write frame %d: %v", k, err)
				}
			}
			if err := r.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			fps := tt.opts.FPS
			if fps == 0 {
				fps = 30
			}
			elapsed := tt.frames[len(tt.frames)-1].at.Seconds()
			p := probe(t, path)
			if p.Codec != "h264" || p.PixFmt != "yuv420p" || p.Width != tt.wantSize.X || p.Height != tt.wantSize.Y || p.FrameRate != tt.wantRate {
				t.Errorf("got %s %s %dx%d at %s; want h264 yuv420p %dx%d at %s",
					p.Codec, p.PixFmt, p.Width, p.Height, p.FrameRate, tt.wantSize.X, tt.wantSize.Y, tt.wantRate)
			}
			// The clip lasts from the first to the last frame, plus at most
			// one output frame for the last picture.
			if p.Duration < elapsed-0.001 || p.Duration > elapsed+1/fps+0.001 {
				t.Errorf("duration: got %.3f s; want %.3f s + at most one frame (%.3f s)", p.Duration, elapsed, 1/fps)
			}
			if want := int(math.Round(p.Duration * fps)); p.Frames != want {
				t.Errorf("frames: got %d; want %d (duration %.3f s at %v fps)", p.Frames, want, p.Duration, fps)
			}
			if e := decodeErrors(t, path); e != "" {
				t.Errorf("decoding the clip: %s", e)
			}
			checkShown(t, path, tt.frames, fps)
		})
	}
}

// checkShown decodes the clip and checks that output frame j shows the
// newest input frame taken before (j+1)/fps.
func checkShown(t *testing.T, path string, frames []recFrame, fps float64) {
	t.Helper()
	src, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	k := 0
	for j := 0; ; j++ {
		f, err := src.Read()
		if err != nil {
			if err != io.EOF {
				t.Errorf("reading the clip back: got %v after %d frames; want io.EOF", err, j)
			}
			return
		}
		got := f.Mat.Mean().Val1
		f.Mat.Close()
		for k+1 < len(frames) && frames[k+1].at.Seconds() < float64(j+1)/fps-1e-6 {
			k++
		}
		// Neighbouring inputs differ by 66 grey levels or more; coding
		// moves a flat grey by a level or two.
		if want := level(k); math.Abs(got-want) > 6 {
			t.Errorf("output frame %d: got grey %.1f; want %.0f (input frame %d)", j, got, want, k)
			return
		}
	}
}

// TestRecorderWallClock records frames stamped with time.Now at uneven
// intervals, as the app does.
func TestRecorderWallClock(t *testing.T) {
	matleak.Check(t)
	path := filepath.Join(t.TempDir(), "wall.mp4")
	r, err := NewRecorder(path, RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	img := gocv.NewMatWithSize(240, 320, gocv.MatTypeCV8UC3)
	defer img.Close()
	var first, last time.Time
	for k := 0; ; k++ {
		now := time.Now()
		if k == 0 {
			first = now
		} else if now.Sub(first) > 1200*time.Millisecond {
			break
		}
		last = now
		if err := r.Write(img, now); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(10+(k*37)%60) * time.Millisecond)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	elapsed := last.Sub(first).Seconds()
	if p := probe(t, path); p.Duration < elapsed-0.001 || p.Duration > elapsed+1.0/30+0.001 {
		t.Errorf("duration: got %.3f s; want %.3f s (wall time recorded) + at most 1/30 s", p.Duration, elapsed)
	}
}

func TestRecorderNoOverwrite(t *testing.T) {
	matleak.Check(t)
	path := filepath.Join(t.TempDir(), "taken.mp4")
	if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := NewRecorder(path, RecorderOptions{})
	if err == nil {
		r.Close()
		t.Fatal("NewRecorder on an existing file: got no error")
	}
	if !errors.Is(err, fs.ErrExist) || err.Error() != "capture: record "+path+": file exists" {
		t.Errorf("got %q; want %q matching fs.ErrExist", err, "capture: record "+path+": file exists")
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Errorf("existing file: got %q; want it untouched", b)
	}
}

func TestRecorderLifecycle(t *testing.T) {
	tests := []struct {
		name string
		opts RecorderOptions
	}{
		{"size from first frame", RecorderOptions{}},
		{"explicit size", RecorderOptions{Width: 64, Height: 48}},
	}
	for _, tt := range tests {
		t.Run(tt.name+": no frames", func(t *testing.T) {
			matleak.Check(t)
			path := filepath.Join(t.TempDir(), "empty.mp4")
			r, err := NewRecorder(path, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			err = r.Close()
			if !errors.Is(err, ErrNoFrames) {
				t.Errorf("Close: got %v; want ErrNoFrames", err)
			}
			if _, serr := os.Stat(path); !errors.Is(serr, fs.ErrNotExist) {
				t.Errorf("file after Close without frames: got %v; want it removed", serr)
			}
			if err2 := r.Close(); err2 != err {
				t.Errorf("second Close: got %v; want %v again", err2, err)
			}
		})
		t.Run(tt.name+": write after close", func(t *testing.T) {
			matleak.Check(t)
			path := filepath.Join(t.TempDir(), "c.mp4")
			r, err := NewRecorder(path, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			img := gocv.NewMatWithSize(48, 64, gocv.MatTypeCV8UC3)
			defer img.Close()
			if err := r.Write(img, time.Now()); err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				if err := r.Close(); err != nil {
					t.Errorf("Close #%d: %v", i+1, err)
				}
			}
			if err := r.Write(img, time.Now()); !errors.Is(err, ErrClosed) {
				t.Errorf("Write after Close: got %v; want ErrClosed", err)
			}
		})
	}
	t.Run("empty frame", func(t *testing.T) {
		matleak.Check(t)
		r, err := NewRecorder(filepath.Join(t.TempDir(), "e.mp4"), RecorderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		empty := gocv.NewMat()
		defer empty.Close()
		if err := r.Write(empty, time.Now()); err == nil {
			t.Error("Write of an empty Mat: got no error")
		}
		if err := r.Close(); !errors.Is(err, ErrNoFrames) {
			t.Errorf("Close: got %v; want ErrNoFrames", err)
		}
	})
}

// recordUntilError writes noisy frames at 30 fps (stamped, not slept) until
// Write fails or max frames; it returns the error.
func recordUntilError(t *testing.T, r *Recorder, max int) (int, error) {
	t.Helper()
	img := gocv.NewMatWithSize(240, 320, gocv.MatTypeCV8UC3)
	defer img.Close()
	patch := img.Region(image.Rect(0, 0, 96, 96))
	defer patch.Close()
	t0 := time.Now()
	for k := range max {
		gocv.RandU(&patch, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(255, 255, 255, 0)) // costly to encode
		if err := r.Write(img, t0.Add(time.Duration(k)*time.Second/30)); err != nil {
			return k, err
		}
	}
	return max, nil
}

// mountTmpfs mounts a tmpfs of the given size (and options) on a new folder,
// or skips the test where mounting is not permitted.
func mountTmpfs(t *testing.T, opts string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): %v: %s", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func TestRecorderFullDisk(t *testing.T) {
	needTool(t, "ffmpeg")
	matleak.Check(t)
	dir := mountTmpfs(t, "size=1m")
	path := filepath.Join(dir, "clip.mp4")
	r, err := NewRecorder(path, RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n, werr := recordUntilError(t, r, 3000)
	cerr := r.Close()
	t.Logf("Write: %v after %d frames; Close: %v", werr, n, cerr)
	if werr == nil {
		t.Fatalf("wrote %d frames into 1 MiB without an error", n)
	}
	want := "capture: record " + path + ": no space left on device"
	if !errors.Is(werr, syscall.ENOSPC) || !strings.HasPrefix(werr.Error(), want) {
		t.Errorf("Write: got %q; want %q matching syscall.ENOSPC", werr, want)
	}
	if !errors.Is(cerr, syscall.ENOSPC) {
		t.Errorf("Close: got %v; want ENOSPC again", cerr)
	}
	p := probe(t, path)
	if p.Codec != "h264" || p.Frames < 30 {
		t.Errorf("what was written: got %s with %d frames; want h264 with at least a second (30 frames)", p.Codec, p.Frames)
	}
	if e := decodeErrors(t, path); e != "" {
		t.Errorf("decoding what was written: %s", e)
	}
	t.Logf("disk full after %d frames; kept %d frames (%.2f s)", n, p.Frames, p.Duration)
}

func TestRecorderInjectedWriteError(t *testing.T) {
	needTool(t, "ffmpeg")
	matleak.Check(t)
	orig := openOutput
	t.Cleanup(func() { openOutput = orig })
	openOutput = func(path string) (*os.File, error) {
		f, err := orig(path) // reserve the name as usual
		if err != nil {
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		return os.OpenFile("/dev/full", os.O_RDWR, 0) // every write: ENOSPC
	}
	path := filepath.Join(t.TempDir(), "clip.mp4")
	r, err := NewRecorder(path, RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n, werr := recordUntilError(t, r, 600)
	if !errors.Is(werr, syscall.ENOSPC) {
		t.Fatalf("Write after %d frames: got %v; want ENOSPC", n, werr)
	}
	img := gocv.NewMatWithSize(240, 320, gocv.MatTypeCV8UC3)
	defer img.Close()
	if err := r.Write(img, time.Now()); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Write after the failure: got %v; want the same ENOSPC", err)
	}
	if err := r.Close(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Close: got %v; want ENOSPC", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("clip with nothing playable: got %v; want it removed", err)
	}
}

func TestRecorderUnwritable(t *testing.T) {
	matleak.Check(t)
	missing := filepath.Join(t.TempDir(), "no", "such", "clip.mp4")
	if _, err := NewRecorder(missing, RecorderOptions{}); !errors.Is(err, fs.ErrNotExist) ||
		err.Error() != "capture: record "+missing+": no such file or directory" {
		t.Errorf("NewRecorder in a missing folder: got %v; want ENOENT", err)
	}
	ro := mountTmpfs(t, "size=1m,ro")
	path := filepath.Join(ro, "clip.mp4")
	if _, err := NewRecorder(path, RecorderOptions{}); !errors.Is(err, syscall.EROFS) {
		t.Errorf("NewRecorder on a read-only file system: got %v; want EROFS", err)
	}
}

func TestTimestampedPath(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 11, 29, 22, 5, 3, 0, time.Local)
	tests := []struct {
		prefix, ext string
		take        bool // create the returned file afterwards
		want        string
	}{
		{"mgvton", ".mp4", true, "mgvton-2026-11-29_22-05-03.mp4"},
		{"mgvton", "mp4", true, "mgvton-2026-11-29_22-05-03-2.mp4"},
		{"mgvton", ".mp4", true, "mgvton-2026-11-29_22-05-03-3.mp4"},
		{"", ".png", false, "2026-11-29_22-05-03.png"},
	}
	for _, tt := range tests {
		got := TimestampedPath(dir, tt.prefix, tt.ext, at)
		if got != filepath.Join(dir, tt.want) {
			t.Errorf("TimestampedPath(%q, %q): got %q; want %q", tt.prefix, tt.ext, got, filepath.Join(dir, tt.want))
		}
		if tt.take {
			if err := os.WriteFile(got, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestRecorderKilled records in a helper process and SIGKILLs it: the clip
// must be playable and hold all but at most the last second.
func TestRecorderKilled(t *testing.T) {
	needTool(t, "ffmpeg")
	tests := []struct {
		name       string
		killFFmpeg bool          // kill ffmpeg too, as a power cut would
		maxLost    time.Duration // of the time recorded before the kill
	}{
		// ffmpeg sees its input end and finishes the file: only the frames
		// queued in the dead process are lost (the contract allows a second;
		// half a second catches a regression such as ffmpeg being signalled,
		// which lost 0.5 to 0.7 s).
		{"process killed", false, 500 * time.Millisecond},
		// Only complete fragments survive: up to a keyframe interval (1 s)
		// plus the encoder's lookahead.
		{"process and ffmpeg killed", true, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "killed.mp4")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"=record", "CAPTURE_TEST_PATH="+path)
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			ffmpegPid, recorded := 0, 0.0
			sc := bufio.NewScanner(out)
			for sc.Scan() && recorded < 2.5 {
				f := strings.Fields(sc.Text())
				if len(f) != 2 {
					continue
				}
				switch f[0] {
				case "ffmpeg":
					ffmpegPid, _ = strconv.Atoi(f[1])
				case "wrote":
					recorded, _ = strconv.ParseFloat(f[1], 64)
				}
			}
			if ffmpegPid == 0 || recorded < 2.5 {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("helper stopped early: ffmpeg pid %d, %.2f s recorded", ffmpegPid, recorded)
			}
			if tt.killFFmpeg {
				if err := syscall.Kill(ffmpegPid, syscall.SIGKILL); err != nil {
					t.Errorf("kill ffmpeg: %v", err)
				}
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err == nil {
				t.Error("helper exited cleanly; want killed")
			}
			waitGone(t, ffmpegPid, 30*time.Second)
			p := probe(t, path)
			want := recorded - tt.maxLost.Seconds()
			if p.Codec != "h264" || p.Duration < want || p.Frames < int(want*30) {
				t.Errorf("clip after kill: got %s, %.2f s, %d frames; want h264 and at least %.2f s of the %.2f s recorded",
					p.Codec, p.Duration, p.Frames, want, recorded)
			}
			t.Logf("recorded %.2f s before the kill; the clip holds %.2f s (%d frames)", recorded, p.Duration, p.Frames)
		})
	}
}

// waitGone waits until process pid has exited (or is a zombie nobody reaps).
func waitGone(t *testing.T, pid int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		// Field 3, after "pid (comm)", is the state.
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i+1:]), " Z") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("ffmpeg (pid %d) still running %v after its parent died", pid, timeout)
}

// helperRecord records grey frames at 30 fps into path until killed,
// printing ffmpeg's pid and, after each frame, the time recorded.
func helperRecord(path string) int {
	r, err := NewRecorder(path, RecorderOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Small frames: the test is about what a kill leaves, not about whether
	// the encoder keeps up on a loaded machine.
	img := gocv.NewMatWithSize(120, 160, gocv.MatTypeCV8UC3)
	tick := time.NewTicker(time.Second / 30)
	var start time.Time
	for k := 0; ; k++ {
		now := <-tick.C
		img.SetTo(gocv.NewScalar(level(k), level(k), level(k), 0))
		if k == 0 {
			start = now
		}
		if err := r.Write(img, now); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if k == 0 {
			fmt.Printf("ffmpeg %d\n", r.enc.cmd.Process.Pid)
		}
		fmt.Printf("wrote %.3f\n", now.Sub(start).Seconds())
	}
}

func BenchmarkRecorderWrite(b *testing.B) {
	needTool(b, "ffmpeg")
	matleak.Check(b)
	// Real content: a moving test pattern, decoded once.
	clip := filepath.Join(b.TempDir(), "pattern.mp4")
	makeVideo(b, clip, 30, 30, "640x480")
	src, err := Open(clip, Options{})
	if err != nil {
		b.Fatal(err)
	}
	var frames []gocv.Mat
	for {
		f, err := src.Read()
		if err != nil {
			break
		}
		frames = append(frames, f.Mat)
	}
	if err := src.Close(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		for _, m := range frames {
			m.Close()
		}
	}()
	cases := []struct {
		name string
		step time.Duration // between frame times
	}{
		// Every Write is one output frame: sustained encoding throughput.
		{"30fps in 30fps out", time.Second / 30},
		// Every other Write replaces the previous frame.
		{"60fps in 30fps out", time.Second / 60},
		// Every Write replaces the pending frame: the cost of Write itself
		// (a copy) when the encoder keeps up.
		{"same output frame", 0},
	}
	for _, c := range cases {
		b.Run("640x480 "+c.name, func(b *testing.B) {
			b.StopTimer()
			r, err := NewRecorder(filepath.Join(b.TempDir(), "bench.mp4"), RecorderOptions{})
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			b.ReportAllocs()
			b.StartTimer()
			for i := 0; i < b.N; i++ {
				at := t0.Add(time.Duration(i) * c.step)
				if err := r.Write(frames[i%len(frames)], at); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
			if err := r.Close(); err != nil && !errors.Is(err, ErrNoFrames) {
				b.Fatal(err)
			}
		})
	}
}

// TestRecorderColours checks that colours come back as they went in: the
// BGR to I420 conversion and the stream's colour tags must agree.
func TestRecorderColours(t *testing.T) {
	matleak.Check(t)
	colours := []gocv.Scalar{
		gocv.NewScalar(255, 0, 0, 0),    // blue
		gocv.NewScalar(0, 255, 0, 0),    // green
		gocv.NewScalar(0, 0, 255, 0),    // red
		gocv.NewScalar(90, 140, 200, 0), // a skin tone
	}
	img := gocv.NewMatWithSize(240, 320, gocv.MatTypeCV8UC3)
	defer img.Close()
	quadrant := func(i int) image.Rectangle {
		return image.Rect((i%2)*160, (i/2)*120, (i%2)*160+160, (i/2)*120+120)
	}
	for i, c := range colours {
		roi := img.Region(quadrant(i))
		roi.SetTo(c)
		roi.Close()
	}
	path := filepath.Join(t.TempDir(), "colours.mp4")
	r, err := NewRecorder(path, RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	for k := range 10 {
		if err := r.Write(img, t0.Add(time.Duration(k)*time.Second/30)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	src, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	f, err := src.Read()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Mat.Close()
	for i, want := range colours {
		roi := f.Mat.Region(quadrant(i).Inset(16)) // away from chroma bleeding at the edges
		got := roi.Mean()
		roi.Close()
		for ch, pair := range [][2]float64{{got.Val1, want.Val1}, {got.Val2, want.Val2}, {got.Val3, want.Val3}} {
			if math.Abs(pair[0]-pair[1]) > 6 {
				t.Errorf("colour %d channel %d: got %.1f; want %.0f (got %v, want %v)", i, ch, pair[0], pair[1], got, want)
			}
		}
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=color_space,color_range", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != "tv,smpte170m" {
		t.Errorf("colour tags: got %q; want %q", got, "tv,smpte170m")
	}
}
