package cli

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"mgvton/capture"
	"mgvton/inference"
	"mgvton/internal/matleak"
	"mgvton/live"
)

// soakSample is one measurement during `bench -soak`.
type soakSample struct {
	Frame      int64   `json:"frame"`
	Seconds    float64 `json:"seconds"`
	RSSMB      float64 `json:"rss_mb"`
	HeapMB     float64 `json:"heap_mb"` // live Go heap after a GC
	Goroutines int     `json:"goroutines"`
	Mats       int     `json:"mats"` // open gocv Mats; -1 unless built with -tags matprofile
}

// soakReport is what `bench -soak N -json` prints. The growth figures
// compare the last sample with the first one after warm-up (the first
// tenth of the run), when buffers, caches and ONNX Runtime's arenas have
// reached their size.
type soakReport struct {
	Model            string       `json:"model"`
	Source           string       `json:"source"`
	RealTime         bool         `json:"realtime"`    // frames came at the source's own rate
	PoseModel        string       `json:"pose_model"`  // the pose landmark model that framed people
	Interrupted      bool         `json:"interrupted"` // stopped by a signal before the N frames (the last sample counts frames shown)
	Frames           int64        `json:"frames"`
	Seconds          float64      `json:"seconds"`
	WarpRuns         int64        `json:"warp_runs"`
	Dropped          int64        `json:"dropped_frames"`
	RSSGrowthMB      float64      `json:"rss_growth_mb"`
	HeapGrowthMB     float64      `json:"heap_growth_mb"`
	GoroutineGrowth  int          `json:"goroutine_growth"`
	MatGrowth        int          `json:"mat_growth"`
	PeakRSSMB        float64      `json:"peak_rss_mb"`
	Samples          []soakSample `json:"samples"`
	GoroutinesBefore int          `json:"goroutines_before"`
	GoroutinesAfter  int          `json:"goroutines_after"` // after the pipeline closed
}

// rssMB reads the current resident set (VmRSS) on Linux.
func rssMB() float64 { return procStatusMB("VmRSS:") }

func sample(frame int64, start time.Time) soakSample {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return soakSample{Frame: frame, Seconds: time.Since(start).Seconds(), RSSMB: rssMB(),
		HeapMB: float64(ms.HeapAlloc) / (1 << 20), Goroutines: runtime.NumGoroutine(), Mats: matleak.Count()}
}

// soak runs the live session (source -> pipeline -> display conversion,
// dropping what the warp stage cannot take, exactly as the app does) for n frames of a
// looping source, read as fast as it decodes or, with realTime, at the
// source's own rate as a camera delivers them, sampling memory, goroutines
// and Mats 20 times.
func soak(ctx context.Context, m *inference.Model, g *inference.Garment, source string, pose poseFlag, n int64, realTime bool) (soakReport, error) {
	rep := soakReport{Model: m.Manifest.Name, Source: source, RealTime: realTime, GoroutinesBefore: runtime.NumGoroutine()}
	src, err := capture.Open(source, capture.Options{Loop: true, RealTime: realTime})
	if err != nil {
		return rep, err
	}
	defer src.Close()
	sess, err := startSessionWith(m, g, pose.pipeline(inference.PipelineOptions{}), live.SessionOptions{Display: true})
	if err != nil {
		return rep, err
	}
	defer sess.Close()
	p := sess.Pipeline()
	rep.PoseModel = p.PoseModel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the display: takes every frame, gives its images back
		defer wg.Done()
		for f := range sess.Frames() {
			f.Release()
		}
	}()
	start := time.Now()
	every := max(n/20, 1)
	var readErr error
	for read := int64(0); read < n && readErr == nil && ctx.Err() == nil; {
		k := min(every, n-read)
		readErr = sess.Feed(ctx, src, k)
		if ctx.Err() != nil {
			break // Feed stopped part of the way
		}
		read += k
		if readErr == nil && read%every == 0 {
			rep.Samples = append(rep.Samples, sample(read, start))
		}
	}
	if ctx.Err() != nil { // stopped (Ctrl-C): report what was run
		rep.Interrupted = true
		rep.Samples = append(rep.Samples, sample(p.Stats().Display.In, start))
	}
	rep.Seconds = time.Since(start).Seconds()
	st := p.Stats()
	sess.Close()
	wg.Wait()
	if readErr != nil {
		return rep, readErr
	}
	rep.Frames, rep.WarpRuns, rep.Dropped = st.Display.In, st.Warp.Out, st.Dropped()
	if k := len(rep.Samples); k >= 3 {
		warm, last := rep.Samples[max(k/10, 1)], rep.Samples[k-1]
		rep.RSSGrowthMB = last.RSSMB - warm.RSSMB
		rep.HeapGrowthMB = last.HeapMB - warm.HeapMB
		rep.GoroutineGrowth = last.Goroutines - warm.Goroutines
		if warm.Mats >= 0 {
			rep.MatGrowth = last.Mats - warm.Mats
		}
	}
	time.Sleep(100 * time.Millisecond) // let the pipeline's goroutines finish exiting
	rep.GoroutinesAfter = runtime.NumGoroutine()
	rep.PeakRSSMB = peakRSSMB()
	return rep, nil
}

func printSoak(r soakReport) {
	fmt.Printf("soak: %s on %s, %d frames in %.0f s (%d warp runs, %d dropped)\n", r.Model, r.Source, r.Frames, r.Seconds, r.WarpRuns, r.Dropped)
	fmt.Printf("  %8s %8s %8s %8s %10s %6s\n", "frame", "s", "rss MB", "heap MB", "goroutines", "mats")
	for _, s := range r.Samples {
		fmt.Printf("  %8d %8.0f %8.1f %8.1f %10d %6d\n", s.Frame, s.Seconds, s.RSSMB, s.HeapMB, s.Goroutines, s.Mats)
	}
	fmt.Printf("  growth after warm-up: RSS %+.1f MB, heap %+.1f MB, goroutines %+d, Mats %+d; peak RSS %.0f MB\n",
		r.RSSGrowthMB, r.HeapGrowthMB, r.GoroutineGrowth, r.MatGrowth, r.PeakRSSMB)
}
