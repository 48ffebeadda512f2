package capture

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"mgvton/internal/matleak"
)

// pipeWriter feeds a video file into a named pipe the way a live writer
// would: the first cut bytes, then nothing until resume is closed (the
// writer stalls), then the rest. paused is closed when the first part has
// been taken by the reader; the returned channel has the writer's error.
func pipeWriter(t *testing.T, video string, cut float64) (fifo string, paused, resume chan struct{}, done chan error) {
	t.Helper()
	data, err := os.ReadFile(video)
	if err != nil {
		t.Fatal(err)
	}
	fifo = filepath.Join(t.TempDir(), "live.mkv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	paused, resume, done = make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0) // waits for the reader
		if err != nil {
			close(paused)
			done <- err
			return
		}
		n := int(float64(len(data)) * cut)
		_, err = f.Write(data[:n])
		close(paused)
		<-resume
		if err == nil {
			_, err = f.Write(data[n:])
		}
		done <- errors.Join(err, f.Close())
	}()
	return fifo, paused, resume, done
}

// A video arriving through a named pipe plays as it comes, waits while the
// writer pauses, goes on when it writes again and ends with io.EOF when the
// writer closes the pipe (never looped, whatever Options.Loop says).
func TestNamedPipePausesAndEnds(t *testing.T) {
	matleak.Check(t)
	video := filepath.Join(t.TempDir(), "clip.mkv")
	makeVideo(t, video, 90, 30, "160x120")
	fifo, paused, resume, done := pipeWriter(t, video, 0.5)
	src, err := Open(fifo, Options{Loop: true})
	if err != nil {
		releaseWriter(fifo, resume)
		t.Fatal(err)
	}
	defer src.Close()
	if info := src.Info(); info.Kind != KindFile || info.Width != 160 || info.Height != 120 {
		t.Errorf("Info: got %+v; want a 160x120 file source", info)
	}
	type read struct {
		n   int
		err error
	}
	reads := make(chan read)
	go func() {
		n := 0
		for {
			f, err := src.Read()
			if err != nil {
				reads <- read{n, err}
				return
			}
			f.Mat.Close()
			n++
			reads <- read{n, nil}
		}
	}()
	// While the writer pauses the reader gets the frames of the first half
	// and then waits: nothing comes for a second.
	<-paused
	before := 0
	for waiting := false; !waiting; {
		select {
		case r := <-reads:
			if r.err != nil {
				t.Fatalf("Read while the writer paused: %v after %d frames; want it to wait", r.err, r.n)
			}
			before = r.n
		case <-time.After(time.Second):
			waiting = true
		}
	}
	if before == 0 || before >= 90 {
		t.Errorf("%d frames read before the writer paused; want some of the 90", before)
	}
	close(resume)
	var last read
	for last = range reads {
		if last.err != nil {
			break
		}
	}
	if last.n != 90 || !errors.Is(last.err, io.EOF) {
		t.Errorf("after the writer resumed and closed: %d frames, %v; want 90 frames, then io.EOF", last.n, last.err)
	}
	if err := <-done; err != nil {
		t.Errorf("writer: %v", err)
	}
	t.Logf("%d frames before the pause, %d in all", before, last.n)
}

// Close of a source whose Read is blocked in the decoder on a pipe whose
// writer stopped (the C call cannot be interrupted) returns, and makes the
// Read return ErrClosed, instead of hanging until the writer comes back.
// The abandoned decode releases the source when the writer finally writes.
func TestCloseAbandonsAReadBlockedOnAPipe(t *testing.T) {
	matleak.Check(t)
	video := filepath.Join(t.TempDir(), "clip.mkv")
	makeVideo(t, video, 90, 30, "160x120")
	base := matleak.Count()
	fifo, paused, resume, done := pipeWriter(t, video, 0.5)
	defer func() {
		// The writer comes back: the abandoned decode returns and lets go
		// of its frame and the VideoCapture before the leak check.
		releaseWriter(fifo, resume)
		<-done // EPIPE once the reader is gone is expected
		waitMats(base, 10*time.Second)
	}()
	src, err := Open(fifo, Options{})
	if err != nil {
		releaseWriter(fifo, resume)
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		for {
			f, err := src.Read()
			if err != nil {
				errc <- err
				return
			}
			f.Mat.Close()
		}
	}()
	<-paused
	time.Sleep(time.Second) // the reader has taken what was written and waits in C
	closed := make(chan error, 1)
	go func() { closed <- src.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close of a source blocked on a stalled pipe still blocked after 20 s")
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Read blocked during Close: got %v; want ErrClosed", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Read still blocked 20 s after Close")
	}
	if _, err := src.Read(); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: got %v; want ErrClosed", err)
	}
}

// releaseWriter lets a pipeWriter that no reader took go.
func releaseWriter(fifo string, resume chan struct{}) {
	if f, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
		defer f.Close()
	}
	select {
	case <-resume:
	default:
		close(resume)
	}
}

// waitMats waits until the open Mats are back to n (or d passed): a
// decode abandoned by Close ends on its own goroutine.
func waitMats(n int, d time.Duration) {
	for end := time.Now().Add(d); matleak.Count() > n && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
	}
}

// Open of a named pipe nobody writes to gives up with ErrStalled instead of
// blocking in the decoder until a writer comes, maybe never.
func TestOpenPipeWithoutWriter(t *testing.T) {
	matleak.Check(t)
	defer func(d time.Duration) { pipeOpenWait = d }(pipeOpenWait)
	pipeOpenWait = 500 * time.Millisecond
	fifo := filepath.Join(t.TempDir(), "nobody.mkv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	type opened struct {
		src Source
		err error
	}
	res := make(chan opened, 1)
	go func() { src, err := Open(fifo, Options{}); res <- opened{src, err} }()
	select {
	case r := <-res:
		if r.err == nil {
			r.src.Close()
		}
		if !errors.Is(r.err, ErrStalled) || !strings.HasPrefix(r.err.Error(), "capture: open "+fifo+": nothing written") {
			t.Errorf("Open of a pipe nobody writes: %v; want ErrStalled saying nothing was written", r.err)
		}
	case <-time.After(20 * time.Second):
		// Let the blocked open go, so the test ends.
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		t.Fatal("Open of a pipe nobody writes still blocked after 20 s")
	}
	// A writer that comes within the wait is taken.
	video := filepath.Join(t.TempDir(), "clip.mkv")
	makeVideo(t, video, 30, 30, "160x120")
	pipeOpenWait = 20 * time.Second
	fifo2, _, resume, done := pipeWriter(t, video, 1)
	close(resume)
	src, err := Open(fifo2, Options{})
	if err != nil {
		<-done
		t.Fatal(err)
	}
	if r := readAll(t, src, 100); r.frames != 30 || !errors.Is(r.err, io.EOF) {
		t.Errorf("read: %d frames, %v; want 30, then io.EOF", r.frames, r.err)
	}
	src.Close()
	if err := <-done; err != nil {
		t.Errorf("writer: %v", err)
	}
}
