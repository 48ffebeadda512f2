package quietlocale

import (
	"os"
	"testing"
)

func TestUnparsable(t *testing.T) {
	for name, want := range map[string]bool{
		"C": false, "POSIX": false, "": false, "en_US.UTF-8": false, "de_DE@euro": false,
		"C.UTF-8": true, "C.utf8": true, "POSIX.UTF-8": true, "C@modifier": true, "Cx": false,
	} {
		if got := Unparsable(name); got != want {
			t.Errorf("Unparsable(%q) = %v; want %v", name, got, want)
		}
	}
}

func TestFix(t *testing.T) {
	cases := []struct {
		lcAll, lang, language string
		want                  string // LANGUAGE afterwards
	}{
		{"", "C.UTF-8", "", "en"},
		{"", "C.UTF-8", "fr", "fr"},          // the user's own choice stays
		{"", "en_GB.UTF-8", "", ""},          // a real locale needs nothing
		{"C.UTF-8", "de_DE.UTF-8", "", "en"}, // LC_ALL wins, as in Fyne
		{"de_DE.UTF-8", "C.UTF-8", "", ""},
		{"", "", "", ""},
		{"", "C", "", ""},
	}
	for _, c := range cases {
		t.Setenv("LC_ALL", c.lcAll)
		t.Setenv("LC_MESSAGES", "")
		t.Setenv("LANG", c.lang)
		t.Setenv("LANGUAGE", c.language)
		Fix()
		if got := os.Getenv("LANGUAGE"); got != c.want {
			t.Errorf("LC_ALL=%q LANG=%q LANGUAGE=%q: LANGUAGE = %q after Fix; want %q", c.lcAll, c.lang, c.language, got, c.want)
		}
	}
}
