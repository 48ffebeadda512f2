package inference

import "testing"

// The live warp results are recycled: a result goes back to the free list
// only when neither the latest slot nor a frame reading it holds it, so the
// warp goroutine never fills one that gen may be reading.
func TestWarpResultsRecycledOnlyWhenUnread(t *testing.T) {
	p := &Pipeline{}
	g := &Garment{ID: "g"}
	publish := func(w *warpOut) {
		p.latest.Lock()
		old := p.latest.warp
		p.latest.warp, p.latest.garment = w, g
		p.releaseWarpLocked(old)
		p.latest.Unlock()
	}
	a := p.takeWarp()
	publish(a)
	if p.latestWarp(&Garment{ID: "other"}) != nil {
		t.Fatal("latestWarp for another garment: want nil")
	}
	read := p.latestWarp(g) // a frame reads a
	if read != a {
		t.Fatal("latestWarp: not the published result")
	}
	b := p.takeWarp()
	if b == a {
		t.Fatal("takeWarp returned the latest result")
	}
	publish(b) // a: still read by the frame
	if c := p.takeWarp(); c == a || c == b {
		t.Fatal("takeWarp returned a result still held")
	} else {
		p.releaseWarp(c) // a failed run gives its result back
	}
	p.releaseWarp(read) // the frame is done with a
	seen := map[*warpOut]bool{}
	for range 3 {
		w := p.takeWarp()
		if w == b {
			t.Fatal("takeWarp returned the latest result")
		}
		seen[w] = true
	}
	if !seen[a] {
		t.Error("a released result was not reused")
	}
}
