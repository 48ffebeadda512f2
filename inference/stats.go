package inference

import (
	"slices"
	"sync"
	"time"
)

// StageStats are the counters of one pipeline stage.
type StageStats struct {
	In, Out, Dropped int64
	// FPS is the output rate over the last outputs.
	FPS float64
	// LatencyP50 and LatencyP95 are over the last runs of the stage.
	LatencyP50, LatencyP95 time.Duration
}

// Stats are a snapshot of a pipeline's counters.
type Stats struct {
	// Display counts frames submitted (In), frames processed (Out) and
	// frames dropped unprocessed because the display stage was busy (or a
	// run failed).
	Display StageStats
	// Unread counts processed results replaced before the consumer took them.
	Unread int64
	// Warp counts person crops offered to the warp stage; Dropped are crops
	// replaced by a newer one before the stage was free.
	Warp StageStats
	// Gen is the generation + paste-back stage, run for every displayed frame.
	Gen StageStats
	// EndToEnd is the latency from a frame's capture time to its result.
	EndToEnd StageStats
	// NoPerson counts frames passed through unchanged because nobody was found.
	NoPerson int64
	// Person is the person models' work per framed frame (pose detector
	// when it runs, landmark model, mask at frame resolution, keypoint
	// filter). Zero when framing is off or frames are used whole.
	Person StageStats
}

// meter counts one stage's frames and times its runs.
type meter struct {
	mu      sync.Mutex
	in      int64
	out     int64
	dropped int64
	lat     []time.Duration // ring of recent latencies
	latNext int
	times   []time.Time // ring of recent output times
	tNext   int
}

const meterWindow = 120

func (m *meter) addIn()   { m.mu.Lock(); m.in++; m.mu.Unlock() }
func (m *meter) addDrop() { m.mu.Lock(); m.dropped++; m.mu.Unlock() }

// done records an output produced at t that took d.
func (m *meter) done(t time.Time, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.out++
	if len(m.lat) < meterWindow {
		m.lat = append(m.lat, d)
		m.times = append(m.times, t)
		return
	}
	m.lat[m.latNext] = d
	m.latNext = (m.latNext + 1) % meterWindow
	m.times[m.tNext] = t
	m.tNext = (m.tNext + 1) % meterWindow
}

func (m *meter) snapshot() StageStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := StageStats{In: m.in, Out: m.out, Dropped: m.dropped}
	if n := len(m.lat); n > 0 {
		sorted := slices.Clone(m.lat)
		slices.Sort(sorted)
		s.LatencyP50 = sorted[(n-1)/2]
		s.LatencyP95 = sorted[(n-1)*95/100]
	}
	if n := len(m.times); n > 1 {
		first, last := m.times[0], m.times[0]
		for _, t := range m.times {
			if t.Before(first) {
				first = t
			}
			if t.After(last) {
				last = t
			}
		}
		if span := last.Sub(first); span > 0 {
			s.FPS = float64(n-1) / span.Seconds()
		}
	}
	return s
}

// Dropped is every frame that was never shown: dropped before processing
// plus processed but replaced before the consumer took it.
func (s Stats) Dropped() int64 { return s.Display.Dropped + s.Unread }
