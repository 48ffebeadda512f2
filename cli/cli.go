// Package cli implements mgvton's subcommands: it parses flags, wires the
// capture, inference, garments and ui packages together, and turns errors
// into one-line messages and exit codes.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"mgvton/inference"
)

// command is one subcommand: run gets the arguments after its name.
type command struct {
	summary string
	run     func(args []string) error
}

// commands is filled by the init functions of the files that implement them.
var commands = map[string]command{}

func register(name, summary string, run func(args []string) error) {
	commands[name] = command{summary: summary, run: run}
}

// errUsage marks an error whose usage text was already printed by flag.
var errUsage = errors.New("usage")

// Main runs mgvton with the given arguments and returns the exit status.
func Main(args []string) int {
	return mainTo(os.Stderr, args)
}

func mainTo(stderr io.Writer, args []string) int {
	name := "app"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if name == "help" {
		usage(stderr)
		return 0
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "mgvton: unknown command %q (run 'mgvton help')\n", name)
		return 2
	}
	if err := cmd.run(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if errors.Is(err, errUsage) {
			return 2
		}
		fmt.Fprintf(stderr, "mgvton %s: %v\n", name, withFlagHint(err))
		return 1
	}
	return 0
}

// withFlagHint adds the command-line flag that fixes err, for the library
// errors that name none (the library does not know our flags).
func withFlagHint(err error) error {
	if errors.Is(err, inference.ErrNoRuntime) {
		return fmt.Errorf("%w; or pass -ort-lib PATH", err)
	}
	return err
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: mgvton [command] [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'mgvton COMMAND -h' for the flags of one command.")
}

// newFlags makes a FlagSet that reports parse errors as errUsage.
func newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("mgvton "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: mgvton %s %s\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args and maps flag errors to errUsage or flag.ErrHelp.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "mgvton: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	return nil
}
