// Package nettrace checks, for tests, that a process opens no network
// sockets: it runs the process under strace (following its children) and
// reads the socket calls back from strace's log.
package nettrace

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// Strace returns the strace executable, or skips tb where strace is missing
// or may not trace (no ptrace permission in a container).
func Strace(tb testing.TB) string {
	tb.Helper()
	bin, err := exec.LookPath("strace")
	if err != nil {
		tb.Skipf("strace not installed (make setup installs it): %v", err)
	}
	if out, err := exec.Command(bin, "-o", os.DevNull, "true").CombinedOutput(); err != nil {
		tb.Skipf("strace cannot trace here: %v: %s", err, out)
	}
	return bin
}

// Command returns a command that runs name with args under strace, which
// follows every child and writes the network system calls to log.
func Command(strace, log, name string, args ...string) *exec.Cmd {
	a := append([]string{"-f", "-qq", "-e", "signal=none", "-e", "trace=%network", "-o", log, name}, args...)
	return exec.Command(strace, a...)
}

var (
	socketCall = regexp.MustCompile(`\bsocket(pair)?\((AF_\w+|\d+)`)
	addrCall   = regexp.MustCompile(`\b(connect|bind|sendto|sendmsg)\(.*sa_family=(AF_\w+|\d+)`)
)

// Foreign returns the lines of an strace log (trace=%network) that create or
// address a socket of any family but AF_UNIX (local: the X server, nscd),
// and the number of local sockets created.
func Foreign(log string) (bad []string, local int) {
	for _, line := range strings.Split(log, "\n") {
		if m := socketCall.FindStringSubmatch(line); m != nil {
			if m[2] == "AF_UNIX" || m[2] == "AF_LOCAL" {
				local++
			} else {
				bad = append(bad, line)
			}
			continue
		}
		if m := addrCall.FindStringSubmatch(line); m != nil && m[2] != "AF_UNIX" && m[2] != "AF_LOCAL" {
			bad = append(bad, line)
		}
	}
	return bad, local
}
