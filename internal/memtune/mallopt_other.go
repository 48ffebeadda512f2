//go:build !(linux && cgo)

package memtune

func state() (bool, string) { return false, "not glibc" }

func arenasWithThreads(int) int { return -1 }
