package garments

import (
	"errors"
	"fmt"
	"image"
	"testing"

	"gocv.io/x/gocv"
)

func TestReadHeaderCrafted(t *testing.T) {
	jpegWithExif := withExif(craftedJPEG(640, 480), 6, true)
	pngWithExif := craftedPNG(64, 32)
	pngWithExif = append(append(append([]byte{}, pngWithExif[:len(pngWithExif)-12]...),
		pngChunk("eXIf", exifTIFF(3, false))...), pngWithExif[len(pngWithExif)-12:]...)
	webpWithExif := riff(webpChunk("VP8X", []byte{8, 0, 0, 0, 99, 0, 0, 49, 0, 0}),
		webpChunk("VP8L", []byte{0x2f, 0, 0, 0, 0}),
		webpChunk("EXIF", append([]byte("Exif\x00\x00"), exifTIFF(8, false)...)))
	tests := []struct {
		name    string
		data    []byte
		want    Header
		wantErr error
	}{
		{"png", craftedPNG(384, 512), Header{PNG, 384, 512, 1}, nil},
		{"png huge", craftedPNG(100000, 100000), Header{PNG, 100000, 100000, 1}, nil},
		{"png exif", pngWithExif, Header{PNG, 64, 32, 3}, nil},
		{"jpeg", craftedJPEG(640, 480), Header{JPEG, 640, 480, 1}, nil},
		{"jpeg huge", craftedJPEG(65535, 65535), Header{JPEG, 65535, 65535, 1}, nil},
		{"jpeg exif", jpegWithExif, Header{JPEG, 640, 480, 6}, nil},
		{"webp vp8x", craftedVP8X(16383, 16383), Header{WebP, 16383, 16383, 1}, nil},
		{"webp vp8x exif", webpWithExif, Header{WebP, 100, 50, 8}, nil},
		{"webp vp8l", craftedVP8L(300, 400), Header{WebP, 300, 400, 1}, nil},
		{"webp vp8", craftedVP8(300, 400), Header{WebP, 300, 400, 1}, nil},

		{"empty", nil, Header{}, ErrNotImage},
		{"text", []byte("hello, world\n"), Header{}, ErrNotImage},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), Header{}, ErrNotImage},
		{"png signature only", pngMagic, Header{}, ErrTruncated},
		{"png no iend", craftedPNG(10, 10)[:33], Header{}, ErrTruncated},
		{"png zero width", craftedPNG(0, 10), Header{}, ErrCorrupt},
		{"png chunk longer than file", append(craftedPNG(10, 10)[:33], 0x7f, 0, 0, 0, 'I', 'D', 'A', 'T'), Header{}, ErrTruncated},
		{"jpeg soi only", []byte{0xff, 0xd8, 0xff}, Header{}, ErrTruncated},
		{"jpeg no eoi", craftedJPEG(10, 10)[:len(craftedJPEG(10, 10))-2], Header{}, ErrTruncated},
		{"jpeg zero height", craftedJPEG(10, 0), Header{}, ErrCorrupt},
		{"jpeg sos before sof", []byte{0xff, 0xd8, 0xff, 0xda, 0, 2, 0xff, 0xd9}, Header{}, ErrCorrupt},
		{"jpeg segment past end", []byte{0xff, 0xd8, 0xff, 0xe0, 0x10, 0}, Header{}, ErrTruncated},
		{"webp riff longer than file", craftedVP8L(10, 10)[:20], Header{}, ErrTruncated},
		{"webp no image chunk", riff(webpChunk("VP8X", make([]byte, 10))[:8]), Header{}, ErrTruncated},
		{"webp bad vp8 start code", riff(webpChunk("VP8 ", make([]byte, 10))), Header{}, ErrCorrupt},
		{"webp unknown first chunk", riff(webpChunk("ABCD", make([]byte, 10))), Header{}, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadHeader(tt.data)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ReadHeader error = %v; want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadHeader: %v", err)
			}
			if got != tt.want {
				t.Errorf("ReadHeader = %+v; want %+v", got, tt.want)
			}
		})
	}
}

// TestReadHeaderEncoded checks the reader on files written by OpenCV's own
// encoders, and that each decodes (WebP included) to the size it read.
func TestReadHeaderEncoded(t *testing.T) {
	m := markerImage(120, 90)
	defer m.Close()
	for _, f := range []struct {
		ext    gocv.FileExt
		format Format
	}{{gocv.PNGFileExt, PNG}, {gocv.JPEGFileExt, JPEG}, {".webp", WebP}} {
		t.Run(string(f.format), func(t *testing.T) {
			data := encode(t, m, f.ext)
			h, err := ReadHeader(data)
			if err != nil {
				t.Fatalf("ReadHeader: %v", err)
			}
			if want := (Header{f.format, 120, 90, 1}); h != want {
				t.Errorf("ReadHeader = %+v; want %+v", h, want)
			}
			img, alpha, err := decodePhoto(data, h)
			if err != nil {
				t.Fatalf("decodePhoto: %v", err)
			}
			defer img.Close()
			defer alpha.Close()
			if img.Cols() != 120 || img.Rows() != 90 || !alpha.Empty() {
				t.Errorf("decoded %dx%d, alpha empty %v; want 120x90, true", img.Cols(), img.Rows(), alpha.Empty())
			}
			for _, cut := range []int{len(data) / 2, len(data) - 1} {
				if _, err := ReadHeader(data[:cut]); !errors.Is(err, ErrTruncated) {
					t.Errorf("ReadHeader(first %d of %d bytes) error = %v; want ErrTruncated", cut, len(data), err)
				}
			}
		})
	}
}

// TestReadHeaderVariants: a progressive JPEG (SOF2), a lossless WebP
// (VP8L) and a JPEG with bytes after EOI.
func TestReadHeaderVariants(t *testing.T) {
	m := markerImage(100, 70)
	defer m.Close()
	enc := func(ext gocv.FileExt, params []int) []byte {
		buf, err := gocv.IMEncodeWithParams(ext, m, params)
		if err != nil {
			t.Fatal(err)
		}
		defer buf.Close()
		return append([]byte{}, buf.GetBytes()...)
	}
	tests := []struct {
		name string
		data []byte
		want Header
	}{
		{"progressive jpeg", enc(gocv.JPEGFileExt, []int{gocv.IMWriteJpegProgressive, 1}), Header{JPEG, 100, 70, 1}},
		{"lossless webp", enc(".webp", []int{gocv.IMWriteWebpQuality, 101}), Header{WebP, 100, 70, 1}},
		{"jpeg with trailer", append(encode(t, m, gocv.JPEGFileExt), "trailer"...), Header{JPEG, 100, 70, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadHeader(tt.data)
			if err != nil || got != tt.want {
				t.Fatalf("ReadHeader = %+v, %v; want %+v, nil", got, err, tt.want)
			}
			img, alpha, err := decodePhoto(tt.data, got)
			if err != nil {
				t.Fatalf("decodePhoto: %v", err)
			}
			img.Close()
			alpha.Close()
		})
	}
}

// TestExifOrientation crafts JPEGs with each Orientation in both byte
// orders and checks that decoding applies it the way OpenCV's own EXIF
// handling does, plus one case worked out by hand.
func TestExifOrientation(t *testing.T) {
	m := markerImage(64, 48)
	defer m.Close()
	plain := encode(t, m, gocv.JPEGFileExt)
	for o := uint16(1); o <= 8; o++ {
		for _, big := range []bool{false, true} {
			t.Run(fmt.Sprintf("orientation %d big-endian %v", o, big), func(t *testing.T) {
				data := withExif(plain, o, big)
				h, err := ReadHeader(data)
				if err != nil {
					t.Fatalf("ReadHeader: %v", err)
				}
				if h.Orientation != int(o) {
					t.Fatalf("Orientation = %d; want %d", h.Orientation, o)
				}
				got, alpha, err := decodePhoto(data, h)
				if err != nil {
					t.Fatalf("decodePhoto: %v", err)
				}
				defer got.Close()
				defer alpha.Close()
				want, err := gocv.IMDecode(data, gocv.IMReadColor) // applies EXIF itself
				if err != nil {
					t.Fatal(err)
				}
				defer want.Close()
				if got.Cols() != want.Cols() || got.Rows() != want.Rows() {
					t.Fatalf("size %dx%d; want %dx%d", got.Cols(), got.Rows(), want.Cols(), want.Rows())
				}
				diff := gocv.NewMat()
				defer diff.Close()
				gocv.AbsDiff(got, want, &diff)
				if s := diff.Sum(); s.Val1+s.Val2+s.Val3 != 0 {
					t.Errorf("pixels differ from OpenCV's EXIF handling by %v", s)
				}
			})
		}
	}
	t.Run("orientation 6 by hand", func(t *testing.T) {
		// Orientation 6: the stored image is shown rotated 90 degrees
		// clockwise, so the red top-left block ends up top-right.
		data := withExif(plain, 6, false)
		h, err := ReadHeader(data)
		if err != nil {
			t.Fatal(err)
		}
		got, alpha, err := decodePhoto(data, h)
		if err != nil {
			t.Fatal(err)
		}
		defer got.Close()
		defer alpha.Close()
		if got.Cols() != 48 || got.Rows() != 64 {
			t.Fatalf("size %dx%d; want 48x64", got.Cols(), got.Rows())
		}
		if red := meanAt(got, image.Rect(40, 2, 46, 10)); red.Val3 < 200 || red.Val1 > 60 {
			t.Errorf("top-right mean %v; want red", red)
		}
		if grey := meanAt(got, image.Rect(2, 2, 8, 10)); grey.Val3 > 160 {
			t.Errorf("top-left mean %v; want grey", grey)
		}
	})
}

func FuzzImageHeader(f *testing.F) {
	m := markerImage(40, 30)
	for _, ext := range []gocv.FileExt{gocv.PNGFileExt, gocv.JPEGFileExt, ".webp"} {
		f.Add(encode(f, m, ext))
	}
	m.Close()
	f.Add(craftedPNG(100000, 100000))
	f.Add(craftedJPEG(65535, 1))
	f.Add(withExif(craftedJPEG(10, 10), 6, true))
	f.Add(withExif(craftedJPEG(10, 10), 3, false))
	f.Add(craftedVP8X(5, 7))
	f.Add(craftedVP8L(5, 7))
	f.Add(craftedVP8(5, 7))
	f.Add([]byte("not an image"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ReadHeader(data)
		if err != nil {
			if h != (Header{}) {
				t.Fatalf("error %v with non-zero header %+v", err, h)
			}
			return
		}
		if h.Width <= 0 || h.Height <= 0 || h.Orientation < 1 || h.Orientation > 8 {
			t.Fatalf("accepted invalid header %+v", h)
		}
		if f, ok := sniff(data); !ok || f != h.Format {
			t.Fatalf("format %q, sniffed %q", h.Format, f)
		}
	})
}

// TestDecodeKinds: grey, 16-bit and alpha images all come out as 8-bit BGR,
// with a mask only from an alpha channel that cuts something out.
func TestDecodeKinds(t *testing.T) {
	bgr := markerImage(64, 48)
	defer bgr.Close()
	gray, bgr16, bgra, cutout := gocv.NewMat(), gocv.NewMat(), gocv.NewMat(), gocv.NewMat()
	defer gray.Close()
	defer bgr16.Close()
	defer bgra.Close()
	defer cutout.Close()
	gocv.CvtColor(bgr, &gray, gocv.ColorBGRToGray)
	bgr.ConvertToWithParams(&bgr16, gocv.MatTypeCV16UC3, 257, 0)
	gocv.CvtColor(bgr, &bgra, gocv.ColorBGRToBGRA) // fully opaque
	bgra.CopyTo(&cutout)
	clear := cutout.Region(image.Rect(0, 24, 64, 48)) // bottom half transparent
	clear.SetTo(gocv.NewScalar(0, 0, 0, 0))
	clear.Close()
	tests := []struct {
		name      string
		m         gocv.Mat
		wantAlpha bool
	}{
		{"gray", gray, false},
		{"16-bit", bgr16, false},
		{"opaque alpha", bgra, false},
		{"cut-out alpha", cutout, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := encode(t, tt.m, gocv.PNGFileExt)
			h, err := ReadHeader(data)
			if err != nil {
				t.Fatal(err)
			}
			img, alpha, err := decodePhoto(data, h)
			if err != nil {
				t.Fatalf("decodePhoto: %v", err)
			}
			defer img.Close()
			defer alpha.Close()
			if img.Type() != gocv.MatTypeCV8UC3 || img.Cols() != 64 || img.Rows() != 48 {
				t.Errorf("image %v %dx%d; want 8UC3 64x48", img.Type(), img.Cols(), img.Rows())
			}
			if got := !alpha.Empty(); got != tt.wantAlpha {
				t.Fatalf("alpha mask present = %v; want %v", got, tt.wantAlpha)
			}
			if tt.wantAlpha {
				if n := gocv.CountNonZero(alpha); n != 64*24 {
					t.Errorf("alpha mask has %d pixels set; want %d", n, 64*24)
				}
				// Transparent pixels become white.
				if s := meanAt(img, image.Rect(0, 30, 64, 48)); s.Val1 != 255 || s.Val2 != 255 || s.Val3 != 255 {
					t.Errorf("transparent area mean %v; want white", s)
				}
			}
			if tt.name == "16-bit" {
				if red := meanAt(img, image.Rect(0, 0, 16, 12)); red.Val3 != 255 || red.Val1 != 0 {
					t.Errorf("16-bit red block mean %v; want pure red", red)
				}
			}
		})
	}
}

func TestReadImage(t *testing.T) {
	dir := t.TempDir()
	m := markerImage(64, 48)
	p := writeTemp(t, dir, "side.jpg", withExif(encode(t, m, gocv.JPEGFileExt), 6, false))
	m.Close()
	img, err := ReadImage(p)
	if err != nil {
		t.Fatalf("ReadImage: %v", err)
	}
	defer img.Close()
	if img.Cols() != 48 || img.Rows() != 64 {
		t.Errorf("ReadImage size %dx%d; want 48x64 (EXIF applied)", img.Cols(), img.Rows())
	}
	if _, err := ReadImage(writeTemp(t, dir, "x.txt", []byte("text"))); !errors.Is(err, ErrNotImage) {
		t.Errorf("ReadImage(text) error = %v; want ErrNotImage", err)
	}
}
