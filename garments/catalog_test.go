package garments

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const validCatalog = `{"version": 1, "garments": [{"id": "navy-stripe-tee", "name": "Navy stripe tee", "category": "t-shirt", "tags": ["stripes"], "image": "navy-stripe-tee.png", "mask": "navy-stripe-tee_mask.png", "thumb": "navy-stripe-tee_thumb.png", "added": "2026-11-29T00:00:00Z"}]}`

// catalogWith returns validCatalog with one field of its garment replaced
// by a raw JSON value.
func catalogWith(field, value string) string {
	i := strings.Index(validCatalog, `"`+field+`": `)
	j := i + len(field) + 4
	end := j
	switch validCatalog[j] {
	case '"':
		end = j + 1 + strings.IndexByte(validCatalog[j+1:], '"') + 1
	case '[':
		end = j + strings.IndexByte(validCatalog[j:], ']') + 1
	}
	return validCatalog[:j] + value + validCatalog[end:]
}

func TestParseCatalog(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		wantErr string // substring; "" for success
	}{
		{"valid", validCatalog, ""},
		{"empty list", `{"version": 1, "garments": []}`, ""},
		{"no garments key", `{"version": 1}`, ""},
		{"unknown field ignored", strings.Replace(validCatalog, `"version": 1,`, `"version": 1, "generator": "x",`, 1), ""},
		{"no thumb", catalogWith("thumb", `""`), ""},
		{"name defaults to id", catalogWith("name", `""`), ""},

		{"not json", `{"version": 1, "garments": [`, "decode"},
		{"trailing data", validCatalog + `{}`, "after the top-level object"},
		{"wrong version", strings.Replace(validCatalog, `"version": 1`, `"version": 2`, 1), "version 2"},
		{"dotdot image", catalogWith("image", `"../../etc/passwd.png"`), "separator"},
		{"dotdot alone", catalogWith("mask", `".."`), "dot"},
		{"absolute image", catalogWith("image", `"/etc/shadow.png"`), "separator"},
		{"subfolder image", catalogWith("image", `"sub/x.png"`), "separator"},
		{"backslash image", catalogWith("thumb", `"..\\x.png"`), "separator"},
		{"hidden file", catalogWith("image", `".x.png"`), "dot"},
		{"nul in name", catalogWith("image", `"x\u0000.png"`), "control character"},
		{"not an image extension", catalogWith("image", `"x.sh"`), ".png"},
		{"missing mask", catalogWith("mask", `""`), "missing file name"},
		{"image is mask", catalogWith("mask", `"navy-stripe-tee.png"`), "different files"},
		{"id with dotdot", catalogWith("id", `"../evil"`), "invalid id"},
		{"id with slash", catalogWith("id", `"a/b"`), "invalid id"},
		{"id upper case", catalogWith("id", `"Navy"`), "invalid id"},
		{"empty id", catalogWith("id", `""`), "invalid id"},
		{"unknown category", catalogWith("category", `"hat"`), "unknown category"},
		{"empty tag", catalogWith("tags", `[""]`), "empty tag"},
		{"control char in name", catalogWith("name", `"a\u001bb"`), "control character"},
		{"bad time", catalogWith("added", `"yesterday"`), "decode"},
		{"duplicate id", `{"version": 1, "garments": [` +
			`{"id": "a", "category": "other", "image": "a.png", "mask": "a_mask.png"},` +
			`{"id": "a", "category": "other", "image": "b.png", "mask": "b_mask.png"}]}`, "duplicate id"},
		{"shared file", `{"version": 1, "garments": [` +
			`{"id": "a", "category": "other", "image": "a.png", "mask": "a_mask.png"},` +
			`{"id": "b", "category": "other", "image": "a.png", "mask": "b_mask.png"}]}`, "also belongs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseCatalog([]byte(tt.data))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("parseCatalog: %v", err)
				}
				if c.Garments == nil {
					t.Errorf("Garments = nil; want non-nil")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("parseCatalog error = %v; want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Navy stripe tee", "navy-stripe-tee"},
		{"  --Red__Checks!! ", "red-checks"},
		{"../../etc/passwd", "etc-passwd"},
		{"Été 2026", "t-2026"},
		{"", "garment"},
		{"日本", "garment"},
		{strings.Repeat("ab", 100), strings.Repeat("ab", 28)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := slug(tt.in)
			if got != tt.want {
				t.Errorf("slug(%q) = %q; want %q", tt.in, got, tt.want)
			}
			if !validID(got) {
				t.Errorf("slug(%q) = %q, not a valid id", tt.in, got)
			}
		})
	}
}

func FuzzCatalog(f *testing.F) {
	f.Add([]byte(validCatalog))
	f.Add([]byte(`{"version": 1, "garments": []}`))
	f.Add([]byte(catalogWith("image", `"../x.png"`)))
	f.Add([]byte(catalogWith("image", `"/x.png"`)))
	f.Add([]byte(catalogWith("id", `"a--b"`)))
	f.Add([]byte(catalogWith("added", `"2026-11-29T01:00:00+01:00"`)))
	f.Add([]byte(`{"version": 1, "garments": [{"id": "a", "category": "other", "image": "a.png", "mask": "a_mask.png"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseCatalog(data)
		if err != nil {
			return
		}
		dir := filepath.Join("cat", "dir")
		for _, e := range c.Garments {
			if !validID(e.ID) {
				t.Fatalf("accepted id %q", e.ID)
			}
			g := e.garment(dir, false)
			for _, p := range []string{g.ImagePath, g.MaskPath, g.ThumbPath} {
				if p == "" {
					continue
				}
				if filepath.Dir(p) != dir {
					t.Fatalf("accepted file %q outside %q", p, dir)
				}
			}
		}
		// What was accepted survives a round trip unchanged.
		b, err := c.marshal()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		c2, err := parseCatalog(b)
		if err != nil {
			t.Fatalf("parse after marshal: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("round trip changed the catalog:\n%+v\n%+v", c, c2)
		}
	})
}
