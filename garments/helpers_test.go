package garments

import (
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"
)

// pngChunk returns one PNG chunk with its CRC.
func pngChunk(typ string, body []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	b = append(b, typ...)
	b = append(b, body...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// craftedPNG returns a PNG signature, an IHDR of the given size and IEND,
// with no pixel data: a huge image's header without its body.
func craftedPNG(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB
	b := append([]byte{}, pngMagic...)
	b = append(b, pngChunk("IHDR", ihdr)...)
	return append(b, pngChunk("IEND", nil)...)
}

// craftedJPEG returns SOI, a baseline SOF0 of the given size, an SOS with a
// few bytes of "scan data" and EOI: a huge image's header without its body.
func craftedJPEG(w, h uint16) []byte {
	b := []byte{0xff, 0xd8}
	b = append(b, 0xff, 0xc0, 0, 17, 8)
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	b = append(b, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	b = append(b, 0xff, 0xda, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0)
	b = append(b, 0x12, 0x34, 0xff, 0x00, 0x56)
	return append(b, 0xff, 0xd9)
}

// riff wraps WebP chunks in a RIFF WEBP container.
func riff(chunks ...[]byte) []byte {
	var body []byte
	for _, c := range chunks {
		body = append(body, c...)
	}
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(4+len(body)))
	b = append(b, "WEBP"...)
	return append(b, body...)
}

func webpChunk(typ string, body []byte) []byte {
	b := append([]byte(typ), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// craftedVP8X is an extended WebP header of the given canvas size.
func craftedVP8X(w, h uint32) []byte {
	x := []byte{0, 0, 0, 0,
		byte(w - 1), byte((w - 1) >> 8), byte((w - 1) >> 16),
		byte(h - 1), byte((h - 1) >> 8), byte((h - 1) >> 16)}
	return riff(webpChunk("VP8X", x), webpChunk("VP8L", []byte{0x2f, 0, 0, 0, 0}))
}

// craftedVP8L is a lossless WebP header of the given size.
func craftedVP8L(w, h uint32) []byte {
	bits := (w - 1) | (h-1)<<14
	return riff(webpChunk("VP8L", append([]byte{0x2f}, binary.LittleEndian.AppendUint32(nil, bits)...)))
}

// craftedVP8 is a lossy WebP header of the given size.
func craftedVP8(w, h uint16) []byte {
	b := []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a}
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return riff(webpChunk("VP8 ", b))
}

// exifTIFF returns a TIFF structure whose IFD0 holds one Orientation tag.
func exifTIFF(orientation uint16, bigEndian bool) []byte {
	var bo interface {
		binary.ByteOrder
		binary.AppendByteOrder
	} = binary.LittleEndian
	b := []byte("II*\x00")
	if bigEndian {
		bo = binary.BigEndian
		b = []byte("MM\x00*")
	}
	b = bo.AppendUint32(b, 8)
	b = bo.AppendUint16(b, 2)                           // two entries
	b = append(b, bo.AppendUint16(nil, 0x010f)...)      // Make, ASCII
	b = bo.AppendUint16(b, 2)                           //
	b = bo.AppendUint32(b, 4)                           //
	b = append(b, 'a', 'b', 'c', 0)                     //
	b = bo.AppendUint16(b, 0x0112)                      // Orientation
	b = bo.AppendUint16(b, 3)                           // SHORT
	b = bo.AppendUint32(b, 1)                           // count 1
	b = append(b, bo.AppendUint16(nil, orientation)...) //
	b = append(b, 0, 0)                                 // value padding
	return bo.AppendUint32(b, 0)                        // no IFD1
}

// withExif inserts an Exif APP1 segment right after a JPEG's SOI.
func withExif(jpeg []byte, orientation uint16, bigEndian bool) []byte {
	payload := append([]byte("Exif\x00\x00"), exifTIFF(orientation, bigEndian)...)
	seg := []byte{0xff, 0xe1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(2+len(payload)))
	seg = append(seg, payload...)
	out := append([]byte{}, jpeg[:2]...)
	out = append(out, seg...)
	return append(out, jpeg[2:]...)
}

// encode returns m encoded in the format of ext (".png", ".jpg", ".webp").
func encode(tb testing.TB, m gocv.Mat, ext gocv.FileExt) []byte {
	tb.Helper()
	buf, err := gocv.IMEncode(ext, m)
	if err != nil {
		tb.Fatalf("encode %s: %v", ext, err)
	}
	defer buf.Close()
	return append([]byte{}, buf.GetBytes()...)
}

// writeTemp writes data to dir/name and returns the path.
func writeTemp(tb testing.TB, dir, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// markerImage returns a w x h grey BGR image with a red block in the
// top-left corner and a blue block in the top-right, so that every
// rotation and mirror of it differs.
func markerImage(w, h int) gocv.Mat {
	m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(128, 128, 128, 0), h, w, gocv.MatTypeCV8UC3)
	gocv.Rectangle(&m, image.Rect(0, 0, w/4, h/4), color.RGBA{R: 255}, -1)
	gocv.Rectangle(&m, image.Rect(w-w/8, 0, w, h/8), color.RGBA{B: 255}, -1)
	return m
}

// meanAt returns the mean BGR colour of r in m.
func meanAt(m gocv.Mat, r image.Rectangle) gocv.Scalar {
	reg := m.Region(r)
	defer reg.Close()
	return reg.Mean()
}

// listDir returns the names in dir (nil if it does not exist).
func listDir(tb testing.TB, dir string) []string {
	tb.Helper()
	es, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}
