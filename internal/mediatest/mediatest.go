// Package mediatest tells tests what ffprobe sees in a clip's first video
// stream. It is imported only by _test.go files.
package mediatest

import (
	"encoding/json"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// Info is ffprobe's view of a clip's first video stream.
type Info struct {
	Codec     string
	PixFmt    string
	Width     int
	Height    int
	FrameRate string  // r_frame_rate, e.g. "30/1"
	AvgFPS    float64 // avg_frame_rate as a number; 0 when unknown
	Duration  float64 // format duration, seconds; 0 when unknown
	Frames    int     // frames actually decoded
}

// Probe runs ffprobe on path, counting frames by decoding them, and fails
// the test when ffprobe fails or finds no single video stream.
func Probe(tb testing.TB, path string) Info {
	tb.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,pix_fmt,width,height,r_frame_rate,avg_frame_rate,nb_read_frames:format=duration",
		"-of", "json", path).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			tb.Fatalf("ffprobe %s: %v\n%s", path, err, ee.Stderr)
		}
		tb.Fatalf("ffprobe %s: %v", path, err)
	}
	var raw struct {
		Streams []struct {
			CodecName    string `json:"codec_name"`
			PixFmt       string `json:"pix_fmt"`
			Width        int    `json:"width"`
			Height       int    `json:"height"`
			RFrameRate   string `json:"r_frame_rate"`
			AvgFrameRate string `json:"avg_frame_rate"`
			NbReadFrames string `json:"nb_read_frames"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		tb.Fatalf("ffprobe %s: %v\n%s", path, err, out)
	}
	if len(raw.Streams) != 1 {
		tb.Fatalf("ffprobe %s: got %d video streams; want 1\n%s", path, len(raw.Streams), out)
	}
	s := raw.Streams[0]
	info := Info{Codec: s.CodecName, PixFmt: s.PixFmt, Width: s.Width, Height: s.Height, FrameRate: s.RFrameRate}
	if num, den, ok := strings.Cut(s.AvgFrameRate, "/"); ok {
		n, _ := strconv.ParseFloat(num, 64)
		if d, _ := strconv.ParseFloat(den, 64); d > 0 {
			info.AvgFPS = n / d
		}
	}
	info.Duration, _ = strconv.ParseFloat(raw.Format.Duration, 64)
	info.Frames, _ = strconv.Atoi(s.NbReadFrames)
	return info
}
