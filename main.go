// Command mgvton is a real-time virtual try-on desktop application.
//
// With no subcommand it opens the desktop app; the subcommands script the
// same engine (see README.md). main sets the C allocator up for video
// (internal/memtune) and dispatches: the work lives in the packages
// capture, inference, garments, ui and cli.
package main

import (
	"os"

	"mgvton/cli"
	_ "mgvton/internal/memtune" // sets the C allocator up when the program loads
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
