package garments

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Format is an image container format that Import accepts.
type Format string

// The formats Import accepts.
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	WebP Format = "webp"
)

// Header is what ReadHeader learns from the first bytes of an image file
// without decoding its pixels.
type Header struct {
	Format        Format
	Width, Height int // stored size in pixels, before any EXIF orientation
	// Orientation is the EXIF orientation (1..8, 1 = as stored) found in a
	// JPEG APP1 segment, a PNG eXIf chunk or a WebP EXIF chunk; 1 when absent
	// or invalid.
	Orientation int
}

// Pixels returns Width*Height.
func (h Header) Pixels() int64 { return int64(h.Width) * int64(h.Height) }

var (
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
	jpegMagic = []byte{0xff, 0xd8, 0xff}
)

// sniff returns the format named by the magic bytes at the start of data.
func sniff(data []byte) (Format, bool) {
	switch {
	case bytes.HasPrefix(data, pngMagic):
		return PNG, true
	case bytes.HasPrefix(data, jpegMagic):
		return JPEG, true
	case len(data) >= 12 && string(data[0:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return WebP, true
	}
	return "", false
}

// ReadHeader reads the format, the stored size and the EXIF orientation of a
// JPEG, PNG or WebP image from its bytes, without decoding pixels. It walks
// the container structure (JPEG markers, PNG chunks, RIFF chunks) with bounds
// checks only: it never allocates in proportion to a size field. Data that
// does not start like one of the three formats gives ErrNotImage; a file cut
// short, or one whose structure is broken, gives ErrTruncated or ErrCorrupt.
func ReadHeader(data []byte) (Header, error) {
	f, ok := sniff(data)
	if !ok {
		return Header{}, ErrNotImage
	}
	var (
		h   Header
		err error
	)
	switch f {
	case PNG:
		h, err = readPNG(data)
	case JPEG:
		h, err = readJPEG(data)
	case WebP:
		h, err = readWebP(data)
	}
	if err != nil {
		return Header{}, err
	}
	h.Format = f
	if h.Width <= 0 || h.Height <= 0 {
		return Header{}, fmt.Errorf("%w: %s size %dx%d", ErrCorrupt, f, h.Width, h.Height)
	}
	if h.Orientation < 1 || h.Orientation > 8 {
		h.Orientation = 1
	}
	return h, nil
}

// readPNG reads IHDR and walks the chunks up to IEND, picking up eXIf.
func readPNG(data []byte) (Header, error) {
	h := Header{Orientation: 1}
	p := len(pngMagic)
	first := true
	for {
		if len(data)-p < 12 {
			return Header{}, fmt.Errorf("%w: png chunk at byte %d", ErrTruncated, p)
		}
		n := binary.BigEndian.Uint32(data[p:])
		typ := string(data[p+4 : p+8])
		if n > 1<<31-1 {
			return Header{}, fmt.Errorf("%w: png chunk %q length %d", ErrCorrupt, typ, n)
		}
		end := p + 12 + int(n) // length + type + data + crc
		if end > len(data) || end < p {
			return Header{}, fmt.Errorf("%w: png chunk %q at byte %d", ErrTruncated, typ, p)
		}
		body := data[p+8 : p+8+int(n)]
		if first {
			if typ != "IHDR" || n != 13 {
				return Header{}, fmt.Errorf("%w: png does not start with IHDR", ErrCorrupt)
			}
			w := binary.BigEndian.Uint32(body[0:])
			ht := binary.BigEndian.Uint32(body[4:])
			if w == 0 || ht == 0 || w > 1<<31-1 || ht > 1<<31-1 {
				return Header{}, fmt.Errorf("%w: png size %dx%d", ErrCorrupt, w, ht)
			}
			h.Width, h.Height = int(w), int(ht)
			first = false
		}
		switch typ {
		case "eXIf":
			h.Orientation = exifOrientation(body)
		case "IEND":
			return h, nil
		}
		p = end
	}
}

// isSOF reports whether a JPEG marker starts a frame (SOF0..SOF15 except
// DHT, JPG and DAC, which share the range).
func isSOF(m byte) bool {
	return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc
}

// readJPEG walks the marker segments up to the first SOS, reading the frame
// size from SOFn and the orientation from the first Exif APP1, then checks
// that an EOI marker follows the scan data.
func readJPEG(data []byte) (Header, error) {
	h := Header{Orientation: 1}
	p := 2 // after SOI
	sawSOF, sawExif := false, false
	for {
		// Markers may be preceded by any number of 0xff fill bytes.
		if p >= len(data) {
			return Header{}, fmt.Errorf("%w: jpeg ends before the image data", ErrTruncated)
		}
		if data[p] != 0xff {
			return Header{}, fmt.Errorf("%w: jpeg marker expected at byte %d", ErrCorrupt, p)
		}
		for p < len(data) && data[p] == 0xff {
			p++
		}
		if p >= len(data) {
			return Header{}, fmt.Errorf("%w: jpeg ends before the image data", ErrTruncated)
		}
		m := data[p]
		p++
		switch {
		case m == 0x01 || (m >= 0xd0 && m <= 0xd7): // TEM, RSTn: no length
			continue
		case m == 0xd8 || m == 0xd9 || m == 0x00:
			return Header{}, fmt.Errorf("%w: jpeg marker 0x%02x before the image data", ErrCorrupt, m)
		}
		if len(data)-p < 2 {
			return Header{}, fmt.Errorf("%w: jpeg segment 0x%02x", ErrTruncated, m)
		}
		n := int(binary.BigEndian.Uint16(data[p:]))
		if n < 2 {
			return Header{}, fmt.Errorf("%w: jpeg segment 0x%02x length %d", ErrCorrupt, m, n)
		}
		if len(data)-p < n {
			return Header{}, fmt.Errorf("%w: jpeg segment 0x%02x", ErrTruncated, m)
		}
		body := data[p+2 : p+n]
		p += n
		switch {
		case isSOF(m):
			if sawSOF {
				return Header{}, fmt.Errorf("%w: jpeg has two frame headers", ErrCorrupt)
			}
			if len(body) < 6 {
				return Header{}, fmt.Errorf("%w: jpeg frame header too short", ErrCorrupt)
			}
			h.Height = int(binary.BigEndian.Uint16(body[1:]))
			h.Width = int(binary.BigEndian.Uint16(body[3:]))
			if h.Width == 0 || h.Height == 0 {
				return Header{}, fmt.Errorf("%w: jpeg size %dx%d", ErrCorrupt, h.Width, h.Height)
			}
			sawSOF = true
		case m == 0xe1 && !sawExif && bytes.HasPrefix(body, []byte("Exif\x00\x00")):
			h.Orientation = exifOrientation(body[6:])
			sawExif = true
		case m == 0xda: // SOS: entropy-coded data follows
			if !sawSOF {
				return Header{}, fmt.Errorf("%w: jpeg scan before the frame header", ErrCorrupt)
			}
			// In entropy-coded data 0xff is stuffed as ff00, so ffd9 is
			// always the EOI marker: its absence means the file was cut.
			if !bytes.Contains(data[p:], []byte{0xff, 0xd9}) {
				return Header{}, fmt.Errorf("%w: jpeg has no end-of-image marker", ErrTruncated)
			}
			return h, nil
		}
	}
}

// readWebP walks the RIFF chunks: VP8X gives the canvas size, otherwise the
// first VP8 or VP8L bitstream header does; EXIF gives the orientation.
func readWebP(data []byte) (Header, error) {
	h := Header{Orientation: 1}
	riff := int64(binary.LittleEndian.Uint32(data[4:]))
	if riff < 4 || riff%2 == 1 {
		return Header{}, fmt.Errorf("%w: webp riff size %d", ErrCorrupt, riff)
	}
	if int64(len(data)) < riff+8 {
		return Header{}, fmt.Errorf("%w: webp riff size %d, file has %d bytes", ErrTruncated, riff, len(data)-8)
	}
	data = data[:riff+8]
	p := 12
	sized, first := false, true
	for p < len(data) {
		if len(data)-p < 8 {
			return Header{}, fmt.Errorf("%w: webp chunk at byte %d", ErrTruncated, p)
		}
		typ := string(data[p : p+4])
		n := int64(binary.LittleEndian.Uint32(data[p+4:]))
		if int64(len(data)-p-8) < n {
			return Header{}, fmt.Errorf("%w: webp chunk %q at byte %d", ErrTruncated, typ, p)
		}
		body := data[p+8 : p+8+int(n)]
		p += 8 + int(n) + int(n&1) // chunks are padded to an even size
		if first && typ != "VP8 " && typ != "VP8L" && typ != "VP8X" {
			return Header{}, fmt.Errorf("%w: webp starts with chunk %q", ErrCorrupt, typ)
		}
		first = false
		switch typ {
		case "VP8X":
			if len(body) < 10 {
				return Header{}, fmt.Errorf("%w: webp VP8X chunk too short", ErrCorrupt)
			}
			h.Width = 1 + int(uint32(body[4])|uint32(body[5])<<8|uint32(body[6])<<16)
			h.Height = 1 + int(uint32(body[7])|uint32(body[8])<<8|uint32(body[9])<<16)
			sized = true
		case "VP8 ":
			if sized {
				continue
			}
			// 3-byte frame tag, start code 9d 01 2a, 14-bit width and height.
			if len(body) < 10 {
				return Header{}, fmt.Errorf("%w: webp VP8 chunk too short", ErrCorrupt)
			}
			if body[3] != 0x9d || body[4] != 0x01 || body[5] != 0x2a {
				return Header{}, fmt.Errorf("%w: webp VP8 start code missing", ErrCorrupt)
			}
			h.Width = int(binary.LittleEndian.Uint16(body[6:]) & 0x3fff)
			h.Height = int(binary.LittleEndian.Uint16(body[8:]) & 0x3fff)
			sized = true
		case "VP8L":
			if sized {
				continue
			}
			// Signature 0x2f, then 14 bits width-1 and 14 bits height-1.
			if len(body) < 5 || body[0] != 0x2f {
				return Header{}, fmt.Errorf("%w: webp VP8L signature missing", ErrCorrupt)
			}
			bits := binary.LittleEndian.Uint32(body[1:])
			h.Width = 1 + int(bits&0x3fff)
			h.Height = 1 + int(bits>>14&0x3fff)
			sized = true
		case "EXIF":
			body = bytes.TrimPrefix(body, []byte("Exif\x00\x00"))
			h.Orientation = exifOrientation(body)
		}
	}
	if !sized {
		return Header{}, fmt.Errorf("%w: webp has no image chunk", ErrCorrupt)
	}
	return h, nil
}

// exifOrientation returns the Orientation tag (0x0112) of IFD0 in a TIFF
// structure (the payload of an Exif APP1 segment after "Exif\0\0"), or 1
// when it is absent or malformed. Only IFD0 is read, so there are no offset
// chains to loop on.
func exifOrientation(tiff []byte) int {
	o, err := parseOrientation(tiff)
	if err != nil {
		return 1
	}
	return o
}

var errNoOrientation = errors.New("no orientation tag")

func parseOrientation(tiff []byte) (int, error) {
	if len(tiff) < 8 {
		return 0, errNoOrientation
	}
	var bo binary.ByteOrder
	switch string(tiff[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 0, errNoOrientation
	}
	off := int64(bo.Uint32(tiff[4:]))
	if off < 8 || off+2 > int64(len(tiff)) {
		return 0, errNoOrientation
	}
	count := int64(bo.Uint16(tiff[off:]))
	entries := tiff[off+2:]
	if count*12 > int64(len(entries)) {
		count = int64(len(entries)) / 12 // read what is there
	}
	for i := int64(0); i < count; i++ {
		e := entries[i*12 : i*12+12]
		if bo.Uint16(e[0:]) != 0x0112 {
			continue
		}
		// SHORT (3), count 1: the value sits in the first two bytes of the
		// value field, in the file's byte order.
		if bo.Uint16(e[2:]) != 3 || bo.Uint32(e[4:]) != 1 {
			return 0, errNoOrientation
		}
		v := int(bo.Uint16(e[8:]))
		if v < 1 || v > 8 {
			return 0, errNoOrientation
		}
		return v, nil
	}
	return 0, errNoOrientation
}
