package main

import (
	"errors"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestArchitectureDocImports keeps the package table of
// docs/architecture.md true: every package go list reports has a row, and
// the row's last column names exactly the mgvton packages it imports.
func TestArchitectureDocImports(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go tool not found: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	want := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, "|")
		var own []string
		for _, imp := range strings.Fields(imports) {
			if rest, ok := strings.CutPrefix(imp, "mgvton/"); ok {
				own = append(own, rest)
			}
		}
		slices.Sort(own)
		want[shortName(pkg)] = own
	}

	doc, err := os.ReadFile("docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	got, err := packageTable(string(doc))
	if err != nil {
		t.Fatal(err)
	}
	for pkg, imports := range want {
		row, ok := got[pkg]
		if !ok {
			t.Errorf("docs/architecture.md: no row for package %s", pkg)
			continue
		}
		if !slices.Equal(row, imports) {
			t.Errorf("docs/architecture.md: %s imports: got %q; want %q (go list)", pkg, row, imports)
		}
	}
	for pkg := range got {
		if _, ok := want[pkg]; !ok {
			t.Errorf("docs/architecture.md: row for %s, which go list does not know", pkg)
		}
	}
}

func shortName(importPath string) string {
	if importPath == "mgvton" {
		return importPath
	}
	return strings.TrimPrefix(importPath, "mgvton/")
}

var (
	firstCode   = regexp.MustCompile("`([^`]+)`")
	parenthesis = regexp.MustCompile(`\([^)]*\)`)
)

// packageTable reads the table under "## Packages": package (first code
// span of the first cell) -> the imports of its last cell, sorted.
func packageTable(doc string) (map[string][]string, error) {
	_, section, ok := strings.Cut(doc, "## Packages\n")
	if !ok {
		return nil, errors.New("docs/architecture.md: no '## Packages' section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[string][]string{}
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		m := firstCode.FindStringSubmatch(cells[0])
		if m == nil {
			continue
		}
		var imports []string
		for _, imp := range strings.Split(parenthesis.ReplaceAllString(cells[len(cells)-1], ""), ",") {
			if imp = strings.TrimSpace(imp); imp != "" && imp != "—" {
				imports = append(imports, imp)
			}
		}
		slices.Sort(imports)
		rows[m[1]] = imports
	}
	return rows, nil
}
