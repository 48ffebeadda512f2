package nettrace

import (
	"os"
	"path/filepath"
	"testing"
)

func TestForeign(t *testing.T) {
	log := `12 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 8
12 connect(8, {sa_family=AF_UNIX, sun_path="/tmp/.X11-unix/X57"}, 110) = 0
13 socket(AF_INET6, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 9
13 connect(3, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.1")}, 16) = 0
14 socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE) = 4
15 recvmsg(8, {msg_namelen=0}, 0) = -1 EAGAIN (Resource temporarily unavailable)`
	bad, local := Foreign(log)
	if len(bad) != 3 || local != 1 {
		t.Errorf("Foreign: %d foreign %q, %d local; want 3 foreign (inet6, inet connect, netlink), 1 local", len(bad), bad, local)
	}
}

// The check catches a real process that opens an internet socket (python3
// binds a UDP socket to the loopback address).
func TestCommandCatchesASocket(t *testing.T) {
	strace := Strace(t)
	log := filepath.Join(t.TempDir(), "log")
	cmd := Command(strace, log, "python3", "-c", "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', 0))")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("python3 under strace: %v: %s", err, out)
	}
	data, _ := os.ReadFile(log)
	if bad, _ := Foreign(string(data)); len(bad) < 2 {
		t.Errorf("a process that binds an AF_INET socket: %d foreign lines %q; want socket and bind", len(bad), bad)
	}
}
