package capture

import (
	"errors"
	"image"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"gocv.io/x/gocv"
)

// imageExts are the file extensions a folder source plays, lower case.
var imageExts = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".bmp": true,
	".webp": true, ".tif": true, ".tiff": true,
}

// folderSource plays the images of a folder as a video. Images of another
// size than the first are resized to it.
type folderSource struct {
	info     Info
	dir      string
	files    []string
	opts     Options
	frameDur time.Duration

	done      chan struct{}
	closeOnce sync.Once
	worker    *worker // runs the image reads

	mu   sync.Mutex // held for a whole Read; guards the fields below
	next int        // index into files
	seq  int64
	err  error
	pace pacer
}

func openFolder(dir string, opts Options) (Source, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, statError(dir, err)
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() && imageExts[strings.ToLower(filepath.Ext(e.Name()))] {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, &Error{Op: "open", Path: dir, Reason: ErrNotFound, Err: errors.New("no images in folder")}
	}
	slices.SortFunc(files, naturalCompare)
	first := gocv.IMRead(files[0], gocv.IMReadColor)
	size := image.Pt(first.Cols(), first.Rows())
	empty := first.Empty()
	first.Close()
	if empty {
		return nil, &Error{Op: "open", Path: files[0], Reason: ErrCorrupt, Err: errors.New("cannot decode image")}
	}
	fps := opts.FPS
	if fps <= 0 {
		fps = defaultFPS
	}
	s := &folderSource{
		info: Info{
			Name:   filepath.Base(filepath.Clean(dir)),
			Kind:   KindFolder,
			Width:  size.X,
			Height: size.Y,
			FPS:    fps,
			Frames: len(files),
		},
		dir:      dir,
		files:    files,
		opts:     opts,
		frameDur: time.Duration(float64(time.Second) / fps),
		done:     make(chan struct{}),
	}
	s.worker = newWorker(s.done, s.read)
	return s, nil
}

func (s *folderSource) Info() Info { return s.info }

// Close stops the source. A Read in progress is waited for at most
// closeWait, as for video sources, so that the image it decoded is closed
// by the time Close returns; one blocked longer in the decoder (a hung
// mount) is abandoned (see worker).
func (s *folderSource) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.worker.wait(closeWait)
	})
	return nil
}

func (s *folderSource) errClosed() error {
	return &Error{Op: "read", Path: s.dir, Reason: ErrClosed}
}

// Read reads the next image on the source's worker goroutine, so that
// Close interrupts it even while the decoder is blocked in C.
func (s *folderSource) Read() (Frame, error) { return s.worker.Read(s.errClosed()) }

func (s *folderSource) read() (Frame, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return Frame{}, s.err
	}
	if closed(s.done) {
		s.err = s.errClosed()
		return Frame{}, s.err
	}
	if s.next == len(s.files) {
		if !s.opts.Loop {
			s.err = io.EOF
			return Frame{}, s.err
		}
		s.next = 0
	}
	name := s.files[s.next]
	s.next++
	m := gocv.IMRead(name, gocv.IMReadColor) // always 8UC3 BGR
	if m.Empty() {
		m.Close()
		s.err = &Error{Op: "read", Path: name, Reason: ErrCorrupt, Err: errors.New("cannot decode image")}
		return Frame{}, s.err
	}
	if m.Cols() != s.info.Width || m.Rows() != s.info.Height {
		resized := gocv.NewMat()
		gocv.Resize(m, &resized, image.Pt(s.info.Width, s.info.Height), 0, 0, gocv.InterpolationArea)
		m.Close()
		m = resized
	}
	pts := time.Duration(s.seq) * s.frameDur
	if s.opts.RealTime && !s.pace.wait(pts, s.done) {
		m.Close()
		s.err = s.errClosed()
		return Frame{}, s.err
	}
	f := Frame{Mat: m, Time: time.Now(), PTS: pts, Seq: s.seq}
	s.seq++
	return f, nil
}

// naturalCompare orders names as people do: digit runs compare by value, so
// "frame2.png" comes before "frame10.png".
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := isDigit(a[0]), isDigit(b[0])
		if da && db {
			na, ra := digitRun(a)
			nb, rb := digitRun(b)
			// Compare by value: strip leading zeros, then length, then digits.
			ta, tb := strings.TrimLeft(na, "0"), strings.TrimLeft(nb, "0")
			if c := len(ta) - len(tb); c != 0 {
				return c
			}
			if c := strings.Compare(ta, tb); c != 0 {
				return c
			}
			if c := len(na) - len(nb); c != 0 { // "01" after "1"
				return c
			}
			a, b = ra, rb
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digitRun(s string) (run, rest string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}
