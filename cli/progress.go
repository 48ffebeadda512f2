package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress draws a one-line progress bar on a terminal, or prints a line
// every few seconds when the output is not a terminal.
type progress struct {
	w     io.Writer
	tty   bool
	total int
	start time.Time
	last  time.Time
	label string
}

func newProgress(w io.Writer, label string, total int) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil {
			tty = st.Mode()&os.ModeCharDevice != 0
		}
	}
	return &progress{w: w, tty: tty, total: total, start: time.Now(), label: label}
}

// update shows that done items are finished.
func (p *progress) update(done int) {
	now := time.Now()
	every := 100 * time.Millisecond
	if !p.tty {
		every = 5 * time.Second
	}
	if now.Sub(p.last) < every && done != p.total {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed
	}
	var line string
	if p.total > 0 {
		frac := min(1, float64(done)/float64(p.total))
		const width = 30
		fill := int(frac * width)
		eta := "?"
		if rate > 0 {
			eta = (time.Duration(float64(p.total-done)/rate) * time.Second).Round(time.Second).String()
		}
		line = fmt.Sprintf("%s [%s%s] %3.0f%% %d/%d  %.1f fps  ETA %s", p.label,
			strings.Repeat("=", fill), strings.Repeat(" ", width-fill), 100*frac, done, p.total, rate, eta)
	} else {
		line = fmt.Sprintf("%s %d  %.1f fps", p.label, done, rate)
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\033[K", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

// finish ends the bar's line.
func (p *progress) finish() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}
