package live

import (
	"errors"
	"path/filepath"
	"testing"

	"mgvton/internal/matleak"
)

// TestSessionSentinelErrors: the conditions callers branch on are sentinel
// errors, not texts to compare.
func TestSessionSentinelErrors(t *testing.T) {
	matleak.Check(t)
	s := NewSession(SessionOptions{})
	defer s.Close()
	if _, err := s.StopRecording(); !errors.Is(err, ErrNotRecording) {
		t.Errorf("StopRecording with no clip: got %v; want ErrNotRecording", err)
	}
	if err := s.Snapshot(filepath.Join(t.TempDir(), "snap.png")); !errors.Is(err, ErrNoPicture) {
		t.Errorf("Snapshot before any frame: got %v; want ErrNoPicture", err)
	}
	// Close stops a recording if there is one; with none it is quiet.
	if err := s.Close(); err != nil {
		t.Errorf("Close: got %v; want nil", err)
	}
}
