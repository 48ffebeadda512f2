package capture

import (
	"fmt"
	"image"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"mgvton/internal/matleak"
	"mgvton/internal/mediatest"
)

// helperEnv makes the test binary act as a helper process (see runHelper).
const helperEnv = "CAPTURE_TEST_HELPER"

func TestMain(m *testing.M) {
	if h := os.Getenv(helperEnv); h != "" {
		os.Exit(runHelper(h))
	}
	code := m.Run()
	if err := matleak.Open(); code == 0 && err != nil {
		fmt.Fprintf(os.Stderr, "capture tests: %v", err)
		code = 1
	}
	os.Exit(code)
}

func needTool(tb testing.TB, name string) {
	tb.Helper()
	if _, err := exec.LookPath(name); err != nil {
		tb.Skipf("%s not installed: %v", name, err)
	}
}

// makeVideo writes an H.264 test-pattern video of frames frames at fps with
// ffmpeg; extra arguments go before the output path.
func makeVideo(tb testing.TB, path string, frames, fps int, size string, extra ...string) {
	tb.Helper()
	needTool(tb, "ffmpeg")
	args := []string{"-v", "error", "-nostdin", "-f", "lavfi",
		"-i", fmt.Sprintf("testsrc2=size=%s:rate=%d", size, fps),
		"-frames:v", strconv.Itoa(frames), "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast"}
	args = append(append(args, extra...), path)
	if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		tb.Fatalf("make video %s: %v\n%s", path, err, out)
	}
}

// writeImage saves a w x h BGR image of one colour.
func writeImage(tb testing.TB, path string, w, h int, c gocv.Scalar) {
	tb.Helper()
	m := gocv.NewMatWithSizeFromScalar(c, h, w, gocv.MatTypeCV8UC3)
	defer m.Close()
	if !gocv.IMWrite(path, m) {
		tb.Fatalf("write image %s failed", path)
	}
}

// probe runs ffprobe on path (skipping the test where ffprobe is missing).
func probe(tb testing.TB, path string) mediatest.Info {
	tb.Helper()
	needTool(tb, "ffprobe")
	return mediatest.Probe(tb, path)
}

// decodeErrors decodes all of path with ffmpeg and returns what it
// complained about ("" for a clean file).
func decodeErrors(tb testing.TB, path string) string {
	tb.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-nostdin", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// readResult is what reading a Source until its first error gave.
type readResult struct {
	frames int
	pts    []time.Duration
	sizes  map[image.Point]int
	err    error
}

// readAll reads src until an error or max frames, closing every frame.
func readAll(tb testing.TB, src Source, max int) readResult {
	tb.Helper()
	r := readResult{sizes: map[image.Point]int{}}
	for r.frames < max {
		f, err := src.Read()
		if err != nil {
			r.err = err
			return r
		}
		if f.Seq != int64(r.frames) {
			tb.Errorf("frame %d: got Seq %d; want %d", r.frames, f.Seq, r.frames)
		}
		if f.Mat.Type() != gocv.MatTypeCV8UC3 {
			tb.Errorf("frame %d: got type %v; want 8UC3", r.frames, f.Mat.Type())
		}
		r.sizes[image.Pt(f.Mat.Cols(), f.Mat.Rows())]++
		r.pts = append(r.pts, f.PTS)
		f.Mat.Close()
		r.frames++
	}
	return r
}

// runHelper is the body of a helper process; it returns the exit code.
func runHelper(name string) int {
	switch name {
	case "record":
		return helperRecord(os.Getenv("CAPTURE_TEST_PATH"))
	}
	fmt.Fprintf(os.Stderr, "unknown helper %q\n", name)
	return 2
}
