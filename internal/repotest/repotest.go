// Package repotest finds what the tests of several packages take from the
// repository checkout: the ONNX Runtime library that 'make setup' puts in
// lib/ and the person models in models/person. It is imported only by
// _test.go files, and imports no package of this module (the tests of
// internal/ortenv and person use it, so it may not depend on them).
package repotest

import (
	"os"
	"path/filepath"
	"testing"
)

// The environment variables that name the two, as the runtime reads them
// (ortenv.LibraryEnv and person.ModelDirEnv; their tests check the match).
const (
	LibraryEnv      = "MGVTON_ORT_LIB"
	PersonModelsEnv = "MGVTON_PERSON_MODELS"
)

// Root returns the checkout's top folder: the nearest folder at or above
// the working directory (a test's package folder) that holds go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// LibraryPath returns $MGVTON_ORT_LIB, or the checkout's
// lib/libonnxruntime.so; it fails the test when that is missing.
func LibraryPath(tb testing.TB) string {
	tb.Helper()
	return find(tb, LibraryEnv, "lib/libonnxruntime.so", "", "onnx runtime library missing (run make setup)")
}

// PersonModels returns $MGVTON_PERSON_MODELS, or the checkout's
// models/person; it fails the test when that is missing.
func PersonModels(tb testing.TB) string {
	tb.Helper()
	return find(tb, PersonModelsEnv, "models/person", "manifest.json", "person models missing")
}

// SetEnv points both variables at the checkout's files where they are not
// set, for a TestMain whose tests run code that reads them (commands and
// the live engine load the library and the person models themselves).
func SetEnv() {
	root, err := Root()
	if err != nil {
		return
	}
	if os.Getenv(LibraryEnv) == "" {
		os.Setenv(LibraryEnv, filepath.Join(root, "lib", "libonnxruntime.so"))
	}
	if os.Getenv(PersonModelsEnv) == "" {
		os.Setenv(PersonModelsEnv, filepath.Join(root, "models", "person"))
	}
}

// find returns $env, or rel under the checkout when it (and inside, the
// file probe, if any) is there.
func find(tb testing.TB, env, rel, probe, missing string) string {
	tb.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	root, err := Root()
	if err != nil {
		tb.Fatalf("%s: no checkout above the working directory: %v", missing, err)
	}
	p := filepath.Join(root, filepath.FromSlash(rel))
	if _, err := os.Stat(filepath.Join(p, probe)); err != nil {
		tb.Fatalf("%s: %v", missing, err)
	}
	return p
}
