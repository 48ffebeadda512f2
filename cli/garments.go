package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"mgvton/garments"
)

func init() {
	register("garments", "list, add or remove catalog garments", runGarments)
}

// Where the garments command writes; tests replace them.
var (
	garmentsStdout io.Writer = os.Stdout
	garmentsStderr io.Writer = os.Stderr
)

const garmentsSynopsis = `list [-json] | add FILE [-name N] [-category C] [-mask M] [-tags T1,T2] [-json] | remove ID

  list     print the bundled and the user's garments
  add      import a shop photo (JPEG, PNG or WebP) into the user's catalog
  remove   delete a garment from the user's catalog`

func runGarments(args []string) error {
	if len(args) == 0 {
		fmt.Fprintf(garmentsStderr, "usage: mgvton garments %s\n", garmentsSynopsis)
		return errUsage
	}
	sub, args := args[0], args[1:]
	var err error
	switch sub {
	case "list", "ls":
		err = garmentsList(args)
	case "add", "import":
		err = garmentsAdd(args)
	case "remove", "rm":
		err = garmentsRemove(args)
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(garmentsStderr, "usage: mgvton garments %s\n", garmentsSynopsis)
		return flag.ErrHelp
	default:
		fmt.Fprintf(garmentsStderr, "mgvton garments: unknown subcommand %q (want list, add or remove)\n", sub)
		return errUsage
	}
	if err == nil || errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return oneLine{err}
}

// oneLine prints an error from package garments on one line and without
// the package prefix, which "mgvton garments: " already gives.
type oneLine struct{ err error }

func (e oneLine) Error() string {
	s := strings.TrimPrefix(e.err.Error(), "garments: ")
	return strings.ReplaceAll(s, "\n", "; ")
}

func (e oneLine) Unwrap() error { return e.err }

// openGarments opens the default library; catalogs that cannot be read are
// left out and, when warn is set, reported on stderr one line each. (Add
// and remove do not warn: a bad user catalog makes them fail with its
// error.)
func openGarments(warn bool) (*garments.Library, []string) {
	lib, err := garments.OpenLibrary(garments.DefaultDirs())
	var warnings []string
	if err != nil && warn {
		for _, line := range strings.Split(err.Error(), "\n") {
			line = strings.TrimPrefix(line, "garments: ")
			warnings = append(warnings, line)
			fmt.Fprintf(garmentsStderr, "mgvton garments: warning: %s\n", line)
		}
	}
	return lib, warnings
}

func garmentsFlags(sub, synopsis string) *flag.FlagSet {
	fs := newFlags("garments "+sub, synopsis)
	fs.SetOutput(garmentsStderr)
	return fs
}

// parseInterleaved parses flags that may come before or after the
// positional arguments, and returns those; everything after "--" is
// positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos, rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(pos, rest...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func garmentsList(args []string) error {
	fs := garmentsFlags("list", "[-json]")
	asJSON := fs.Bool("json", false, "print one JSON object: {\"garments\": [...], \"warnings\": [...]}")
	if err := parse(fs, args); err != nil {
		return err
	}
	lib, warnings := openGarments(true)
	list := lib.List()
	if *asJSON {
		if warnings == nil {
			warnings = []string{}
		}
		b, err := json.MarshalIndent(struct {
			Garments []garments.Garment `json:"garments"`
			Warnings []string           `json:"warnings"`
			Bundled  string             `json:"bundled_dir"`
			User     string             `json:"user_dir"`
		}{list, warnings, lib.BundledDir(), lib.UserDir()}, "", "  ")
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		_, err = fmt.Fprintf(garmentsStdout, "%s\n", b)
		return err
	}
	if len(list) == 0 {
		_, err := fmt.Fprintln(garmentsStdout, "no garments (add one with 'mgvton garments add FILE')")
		return err
	}
	tw := tabwriter.NewWriter(garmentsStdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCATEGORY\tSOURCE\tTAGS")
	for _, g := range list {
		source := "user"
		if g.Bundled {
			source = "bundled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", g.ID, g.Name, g.Category, source, strings.Join(g.Tags, ","))
	}
	return tw.Flush()
}

func garmentsAdd(args []string) error {
	fs := garmentsFlags("add", "FILE [-name N] [-category C] [-mask M] [-tags T1,T2] [-json]")
	var opts garments.ImportOptions
	fs.StringVar(&opts.Name, "name", "", "display name (default: from the file name)")
	fs.StringVar(&opts.Category, "category", garments.CategoryOther, "one of "+strings.Join(garments.Categories, ", "))
	fs.StringVar(&opts.MaskPath, "mask", "", "garment mask image, white on black (default: computed)")
	tags := fs.String("tags", "", "comma-separated search tags")
	asJSON := fs.Bool("json", false, "print the new garment as one JSON object")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprintf(garmentsStderr, "mgvton garments add: want one FILE, got %d arguments\n", len(pos))
		fs.Usage()
		return errUsage
	}
	if !garments.ValidCategory(opts.Category) {
		fmt.Fprintf(garmentsStderr, "mgvton garments add: unknown category %q (want one of %s)\n", opts.Category, strings.Join(garments.Categories, ", "))
		return errUsage
	}
	if *tags != "" {
		opts.Tags = strings.Split(*tags, ",")
	}
	lib, _ := openGarments(false)
	g, err := lib.Import(pos[0], opts)
	if err != nil {
		return err
	}
	if *asJSON {
		b, err := json.Marshal(g)
		if err != nil {
			return fmt.Errorf("add: %w", err)
		}
		_, err = fmt.Fprintf(garmentsStdout, "%s\n", b)
		return err
	}
	_, err = fmt.Fprintf(garmentsStdout, "added %s (%s, %s)\n", g.ID, g.Name, g.Category)
	return err
}

func garmentsRemove(args []string) error {
	fs := garmentsFlags("remove", "ID")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprintf(garmentsStderr, "mgvton garments remove: want one ID, got %d arguments\n", len(pos))
		fs.Usage()
		return errUsage
	}
	lib, _ := openGarments(false)
	if err := lib.Remove(pos[0]); err != nil {
		return err
	}
	_, err = fmt.Fprintf(garmentsStdout, "removed %s\n", pos[0])
	return err
}
