// Command mgvton is a real-time virtual try-on desktop application.
//
// With no subcommand it opens the desktop app; the subcommands script the
// same engine (see README.md). main only dispatches: the work lives in the
// packages capture, inference, garments, ui and cli.
package main

import (
	"os"

	"mgvton/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
