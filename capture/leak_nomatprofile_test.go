//go:build !matprofile

package capture

// matLeakCheck is off: build with -tags matprofile to count live Mats.
const matLeakCheck = false

func liveMats() int         { return 0 }
func liveMatStacks() string { return "" }
