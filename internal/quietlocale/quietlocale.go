// Package quietlocale keeps Fyne from complaining about the C locale.
//
// Fyne's lang package reads the user's locale from the environment in its
// package initialiser, before main runs, and logs three "Fyne error: Error
// parsing user locale C" lines to stderr when the locale is a C or POSIX
// variant with a codeset (LANG=C.UTF-8, the default of many containers and
// CI images): its locale library only recognises the bare names "C" and
// "POSIX". Every subcommand links Fyne, so even `mgvton garments list`
// printed them before its own output.
//
// This package's initialiser runs before Fyne's: it depends on nothing but
// os and strings, and Go initialises packages in import-path order among
// those whose imports are ready, so it is ready (and chosen) long before
// fyne.io/fyne/v2/lang, which needs encoding/json, text/template and
// golang.org/x/text. The test in cli checks the order on the built binary.
//
// The only change is LANGUAGE=en, and only when the locale in force is a C
// or POSIX variant that Fyne cannot parse and LANGUAGE is unset. GNU
// gettext ignores LANGUAGE under the C locale, so child processes see no
// difference; Fyne, which reads LANGUAGE for any locale name other than the
// bare "C" and "POSIX", gets English, which is what the C locale means.
package quietlocale

import (
	"os"
	"strings"
)

func init() { Fix() }

// Fix applies the change described in the package comment and reports
// whether it changed the environment.
func Fix() bool {
	if !Unparsable(current()) || os.Getenv("LANGUAGE") != "" {
		return false
	}
	os.Setenv("LANGUAGE", "en")
	return true
}

// current is the locale name in force for messages: the first non-empty of
// LC_ALL, LC_MESSAGES and LANG (the order Fyne's locale library uses).
func current() string {
	for _, env := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(env); v != "" {
			return v
		}
	}
	return ""
}

// Unparsable reports whether name is a C or POSIX locale spelt with a
// codeset or modifier (C.UTF-8, POSIX.utf8, C@x): Fyne takes the bare names
// as English but tries to parse these as a language tag and fails.
func Unparsable(name string) bool {
	if name == "C" || name == "POSIX" {
		return false
	}
	base := name
	if i := strings.IndexAny(base, ".@"); i >= 0 {
		base = base[:i]
	}
	return base == "C" || base == "POSIX"
}
