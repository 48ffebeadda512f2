package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"mgvton/capture"
	"mgvton/garments"
	"mgvton/inference"
	"mgvton/internal/memtune"
	"mgvton/live"
	"mgvton/person"
)

func init() {
	register("bench", "measure model and live-pipeline speed", runBench)
}

// benchReport is what `bench -json` prints.
type benchReport struct {
	Model        string  `json:"model"`
	InputSize    string  `json:"input_size"`
	Source       string  `json:"source"`
	Garment      string  `json:"garment"`
	CPUs         int     `json:"cpus"`
	Device       string  `json:"device"`         // where the graphs ran: cpu or cuda
	GPU          string  `json:"gpu,omitempty"`  // the GPU's model when Device is cuda
	ModelFPS     float64 `json:"model_fps"`      // warp + gen, one frame after another
	WarpMS       float64 `json:"warp_ms_p50"`    // offline warp run
	GenMS        float64 `json:"gen_ms_p50"`     // offline gen run
	WarpFPS      float64 `json:"warp_fps"`       // live: warp results per second
	DisplayFPS   float64 `json:"display_fps"`    // live: try-on frames delivered per second
	SourceFPS    float64 `json:"source_fps"`     // live: frames the source delivered per second
	LatencyP50   float64 `json:"latency_ms_p50"` // live: capture to result
	LatencyP95   float64 `json:"latency_ms_p95"`
	Frames       int64   `json:"frames"`
	Dropped      int64   `json:"dropped_frames"`
	AppliedShare float64 `json:"applied_share"` // share of delivered frames that carried a try-on
	NoPerson     int64   `json:"no_person_frames"`
	PoseModel    string  `json:"pose_model"`    // live: the pose landmark model that framed people (lite, full)
	PersonMS     float64 `json:"person_ms_p50"` // live: pose models + mask + framing per framed frame
	PersonMS95   float64 `json:"person_ms_p95"`
	PeakRSSMB    float64 `json:"peak_rss_mb"`
	MallocArenas int     `json:"malloc_arena_max"` // the arena limit internal/memtune set; 0: glibc's own (or the environment's)
}

func runBench(args []string) error {
	fs := newFlags("bench", "[-model DIR] [-frames N] [-source SRC] [-soak N [-realtime]] [-json]")
	var mf modelFlags
	mf.register(fs)
	var pose poseFlag
	pose.register(fs, person.LandmarkLite)
	frames := fs.Int("frames", 300, "live frames to run (at the source's own rate)")
	offline := fs.Int("offline", 20, "frames to time the model on, one after another")
	source := fs.String("source", "demo", "frame source: demo, cam:N, a video file or an image folder")
	garment := fs.String("garment", "", "garment image or catalog id (default: the first catalog garment)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	soakFrames := fs.Int64("soak", 0, "instead: run the live pipeline for this many frames of the looping source, read as fast as it decodes, and report memory, goroutines and Mats over time")
	realTime := fs.Bool("realtime", false, "with -soak: deliver the source's frames at its own rate, as a camera would (30 fps: -soak 108000 runs one hour)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *frames < 1 || *offline < 1 {
		return errors.New("-frames and -offline must be at least 1")
	}
	// Ctrl-C (or SIGTERM) ends a soak early with the report so far.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m, err := mf.load()
	if err != nil {
		return err
	}
	defer m.Close()
	if *garment == "" {
		lib, libErr := garments.OpenLibrary(garments.DefaultDirs())
		list := lib.List()
		if len(list) == 0 {
			return fmt.Errorf("no garment given and the catalog is empty (%v)", libErr)
		}
		*garment = list[0].ID
	}
	g, err := prepareGarment(ctx, m, *garment, "")
	if err != nil {
		return err
	}
	if *soakFrames > 0 {
		rep, err := soak(ctx, m, g, *source, pose, *soakFrames, *realTime)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(os.Stdout).Encode(rep)
		}
		printSoak(rep)
		return nil
	}
	w, h := m.Size()
	rep := benchReport{Model: m.Manifest.Name, InputSize: fmt.Sprintf("%dx%d", w, h), Source: *source,
		Garment: *garment, CPUs: runtime.NumCPU()}
	dev, _, gpu := inference.ChosenDevice()
	rep.Device, rep.GPU = string(dev), gpu
	for _, st := range memtune.Settings() {
		if st.Name == "arena_max" && st.Set {
			rep.MallocArenas = st.Value
		}
	}

	// 1. The model alone: warp then gen on one crop, repeated.
	if err := benchOffline(ctx, m, g, *source, *offline, &rep); err != nil {
		return err
	}
	// 2. The live pipeline at the source's own rate.
	if err := benchLive(ctx, m, g, *source, pose, *frames, &rep); err != nil {
		return err
	}
	rep.PeakRSSMB = peakRSSMB()
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(rep)
	}
	on := fmt.Sprintf("%d CPUs", rep.CPUs)
	if rep.GPU != "" {
		on = rep.GPU
	}
	fmt.Printf("model %s (%s) on %s, source %s, garment %s\n", rep.Model, rep.InputSize, on, rep.Source, rep.Garment)
	fmt.Printf("  model:   %.2f fps (warp %.1f ms + gen %.1f ms, p50)\n", rep.ModelFPS, rep.WarpMS, rep.GenMS)
	fmt.Printf("  live:    display %.1f fps, warp %.2f fps, source %.1f fps\n", rep.DisplayFPS, rep.WarpFPS, rep.SourceFPS)
	fmt.Printf("  latency: p50 %.0f ms, p95 %.0f ms; dropped %d of %d; try-on on %.0f%% of shown frames\n",
		rep.LatencyP50, rep.LatencyP95, rep.Dropped, rep.Frames, 100*rep.AppliedShare)
	fmt.Printf("  person:  pose models (%s landmarks) + mask %.1f ms p50, %.1f ms p95 per frame\n", rep.PoseModel, rep.PersonMS, rep.PersonMS95)
	fmt.Printf("  memory:  peak RSS %.0f MB\n", rep.PeakRSSMB)
	return nil
}

func benchOffline(ctx context.Context, m *inference.Model, g *inference.Garment, source string, n int, rep *benchReport) error {
	src, err := capture.Open(source, capture.Options{})
	if err != nil {
		return err
	}
	defer src.Close()
	p, err := inference.NewPipeline(m, inference.PipelineOptions{Framing: inference.FramingOff})
	if err != nil {
		return err
	}
	defer p.Close()
	p.SetGarment(g)
	for i := 0; i < n; i++ {
		f, err := src.Read()
		if err != nil {
			return err
		}
		res, err := p.Process(ctx, inference.Frame{Mat: f.Mat, Time: f.Time, Seq: f.Seq})
		if err != nil {
			return err
		}
		res.Close()
	}
	st := p.Stats()
	rep.WarpMS = ms(st.Warp.LatencyP50)
	rep.GenMS = ms(st.Gen.LatencyP50)
	if t := rep.WarpMS + rep.GenMS; t > 0 {
		rep.ModelFPS = 1000 / t
	}
	return nil
}

// benchLive runs the live session the app runs (source -> pipeline ->
// display conversion), with a "window" that takes every frame it can and
// gives its images back at once.
func benchLive(ctx context.Context, m *inference.Model, g *inference.Garment, source string, pose poseFlag, n int, rep *benchReport) error {
	sess, src, err := startLive(m, g, source, pose, live.SessionOptions{Display: true})
	if err != nil {
		return err
	}
	defer src.Close()
	defer sess.Close()
	p := sess.Pipeline()
	rep.PoseModel = p.PoseModel()
	var shown, applied int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the display: ends when the session closes Frames
		defer wg.Done()
		for f := range sess.Frames() {
			shown++
			if f.TryOn != nil {
				applied++
			}
			f.Release()
		}
	}()
	start := time.Now()
	readErr := sess.Feed(ctx, src, int64(n))
	elapsed := time.Since(start).Seconds()
	st := p.Stats()
	sess.Close()
	wg.Wait()
	if readErr != nil && !errors.Is(readErr, io.EOF) {
		return readErr
	}
	rep.Frames = st.Display.In
	rep.SourceFPS = float64(st.Display.In) / elapsed
	rep.DisplayFPS = float64(shown) / elapsed
	rep.WarpFPS = float64(st.Warp.Out) / elapsed
	rep.LatencyP50 = ms(st.EndToEnd.LatencyP50)
	rep.LatencyP95 = ms(st.EndToEnd.LatencyP95)
	rep.Dropped = st.Dropped()
	rep.NoPerson = st.NoPerson
	rep.PersonMS = ms(st.Person.LatencyP50)
	rep.PersonMS95 = ms(st.Person.LatencyP95)
	if shown > 0 {
		rep.AppliedShare = float64(applied) / float64(shown)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// peakRSSMB reads the process's peak resident set (VmHWM) on Linux.
func peakRSSMB() float64 { return procStatusMB("VmHWM:") }

// procStatusMB reads a "key N kB" line of /proc/self/status in MB (0 when
// it cannot be read, as off Linux).
func procStatusMB(key string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}
