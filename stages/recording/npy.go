package recording

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// The .npy format (numpy/lib/format.py): the magic "\x93NUMPY", a major and minor
// version byte, the header length (uint16 little-endian for version 1, uint32 for
// versions 2 and 3), then the header, a Python dict literal such as
//
//	{'descr': '<u8', 'fortran_order': True, 'shape': (379321, 1), }
//
// padded with spaces and ended by a newline, then the raw data. We parse the header
// ourselves rather than with npyio's reader because that reader assumes one exact
// spacing and key order of the dict, and because spike files must be read in chunks
// (npyio reads whole arrays).

// npyHeader describes one .npy file.
type npyHeader struct {
	Descr      string // e.g. "<u8"
	Fortran    bool
	Shape      []int
	DataOffset int64            // byte offset of the first value
	Order      binary.ByteOrder // byte order of multi-byte values
	Kind       byte             // 'i' signed, 'u' unsigned, 'f' float, 'b' bool
	ItemSize   int              // bytes per value: 1, 2, 4 or 8
}

// Len is the number of values (the product of the shape; 1 for a scalar).
func (h npyHeader) Len() int {
	n := 1
	for _, d := range h.Shape {
		n *= d
	}
	return n
}

// maxNPYHeader bounds the header we are willing to read: numpy itself warns above
// 10 kB; a larger header is a corrupt file, not a spike file.
const maxNPYHeader = 1 << 20

var npyMagic = []byte("\x93NUMPY")

// parseNPYHeader parses the header at the start of buf, which must hold the whole
// header (it may hold more). It checks the dtype is a plain number type and the
// shape a list of non-negative dimensions; it does not check the data length.
func parseNPYHeader(buf []byte) (npyHeader, error) {
	var h npyHeader
	if len(buf) < 10 || string(buf[:6]) != string(npyMagic) {
		return h, errors.New("not a .npy file (no \\x93NUMPY magic)")
	}
	major := buf[6]
	var hlen, pre int
	switch major {
	case 1:
		hlen, pre = int(binary.LittleEndian.Uint16(buf[8:10])), 10
	case 2, 3:
		if len(buf) < 12 {
			return h, errors.New("truncated .npy header")
		}
		v := binary.LittleEndian.Uint32(buf[8:12])
		if v > maxNPYHeader {
			return h, fmt.Errorf(".npy header length %d is implausibly large", v)
		}
		hlen, pre = int(v), 12
	default:
		return h, fmt.Errorf("unsupported .npy format version %d.%d", major, buf[7])
	}
	if len(buf) < pre+hlen {
		return h, fmt.Errorf("truncated .npy header: %d bytes announced, %d present", hlen, len(buf)-pre)
	}
	h.DataOffset = int64(pre + hlen)
	dict, err := parsePyDict(string(buf[pre : pre+hlen]))
	if err != nil {
		return h, fmt.Errorf("bad .npy header: %v", err)
	}
	descr, ok := dict["descr"].(string)
	if !ok {
		if _, isList := dict["descr"].([]any); isList {
			return h, errors.New("unsupported npy dtype: a structured (record) array, want plain integers or floats")
		}
		return h, errors.New("bad .npy header: no 'descr' string")
	}
	fortran, ok := dict["fortran_order"].(bool)
	if !ok {
		return h, errors.New("bad .npy header: no 'fortran_order' True/False")
	}
	shape, ok := dict["shape"].([]any)
	if !ok {
		return h, errors.New("bad .npy header: no 'shape' tuple")
	}
	h.Descr, h.Fortran = descr, fortran
	total := int64(1)
	for _, d := range shape {
		n, ok := d.(int64)
		if !ok || n < 0 {
			return h, fmt.Errorf("bad .npy header: shape %v is not a tuple of non-negative integers", shape)
		}
		if n > 0 && total > (1<<50)/n {
			return h, fmt.Errorf("bad .npy header: shape %v is implausibly large", shape)
		}
		total *= n
		h.Shape = append(h.Shape, int(n))
	}
	if err := h.setDtype(descr); err != nil {
		return h, err
	}
	return h, nil
}

// setDtype decodes a numpy type string: a byte-order character (< little, > big,
// = native, | not applicable), a kind and a size in bytes.
func (h *npyHeader) setDtype(descr string) error {
	bad := fmt.Errorf("unknown npy dtype %q (want an integer type such as '<i8', '<u4', or a float '<f8')", descr)
	if len(descr) < 2 {
		return bad
	}
	s := descr
	h.Order = binary.LittleEndian
	switch s[0] {
	case '<', '|', '=': // '=' is native; every platform we build for is little-endian
		s = s[1:]
	case '>':
		h.Order = binary.BigEndian
		s = s[1:]
	}
	if len(s) < 2 {
		return bad
	}
	kind := s[0]
	size, err := strconv.Atoi(s[1:])
	if err != nil {
		return bad
	}
	switch {
	case (kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8):
	case kind == 'f' && (size == 4 || size == 8):
	case kind == 'b' && size == 1:
	default:
		return bad
	}
	h.Kind, h.ItemSize = kind, size
	return nil
}

// parsePyDict parses the Python dict literal of a .npy header: string keys; values
// are strings, True/False, integers, or tuples/lists of those (nested lists appear in
// structured dtypes, which we parse only to reject them clearly).
func parsePyDict(s string) (map[string]any, error) {
	p := &pyParser{s: s}
	p.space()
	if !p.eat('{') {
		return nil, errors.New("header does not start with '{'")
	}
	out := map[string]any{}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		k, err := p.value(0)
		if err != nil {
			return nil, err
		}
		key, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("dict key %v is not a string", k)
		}
		p.space()
		if !p.eat(':') {
			return nil, fmt.Errorf("expected ':' after key %q", key)
		}
		v, err := p.value(0)
		if err != nil {
			return nil, err
		}
		out[key] = v
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if p.eat('}') {
			break
		}
		return nil, fmt.Errorf("expected ',' or '}' at offset %d", p.i)
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected %q after the dict", truncate(p.s[p.i:], 20))
	}
	return out, nil
}

type pyParser struct {
	s string
	i int
}

func (p *pyParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// value parses one literal; depth bounds nesting so hostile input cannot exhaust
// the stack.
func (p *pyParser) value(depth int) (any, error) {
	if depth > 32 {
		return nil, errors.New("literal nested too deeply")
	}
	p.space()
	if p.i >= len(p.s) {
		return nil, errors.New("unexpected end of header")
	}
	c := p.s[p.i]
	switch {
	case c == '\'' || c == '"':
		return p.str()
	case c == '(' || c == '[':
		closer := byte(')')
		if c == '[' {
			closer = ']'
		}
		p.i++
		var list []any
		for {
			p.space()
			if p.eat(closer) {
				return list, nil
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
			p.space()
			if p.eat(',') {
				continue
			}
			if p.eat(closer) {
				return list, nil
			}
			return nil, fmt.Errorf("expected ',' or %q at offset %d", closer, p.i)
		}
	case c == '-' || c == '+' || (c >= '0' && c <= '9'):
		j := p.i + 1
		for j < len(p.s) && (p.s[j] >= '0' && p.s[j] <= '9' || p.s[j] == 'L') {
			j++
		}
		lit := strings.TrimSuffix(p.s[p.i:j], "L") // Python 2 longs: (3L,)
		n, err := strconv.ParseInt(lit, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad integer %q", p.s[p.i:j])
		}
		p.i = j
		return n, nil
	}
	for _, w := range []struct {
		word string
		v    any
	}{{"True", true}, {"False", false}, {"None", nil}} {
		if strings.HasPrefix(p.s[p.i:], w.word) {
			p.i += len(w.word)
			return w.v, nil
		}
	}
	return nil, fmt.Errorf("unexpected %q", truncate(p.s[p.i:], 20))
}

func (p *pyParser) str() (string, error) {
	q := p.s[p.i]
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == q:
			return b.String(), nil
		case c == '\\' && p.i < len(p.s):
			b.WriteByte(p.s[p.i])
			p.i++
		case c == '\n':
			return "", errors.New("newline inside a string")
		default:
			b.WriteByte(c)
		}
	}
	return "", errors.New("unterminated string")
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// npyFile is a one-column .npy array on disk: a vector (N,) or a column or row
// (N,1), (1,N). For these shapes C and Fortran order give the same byte layout, so
// the order flag does not matter.
type npyFile struct {
	Path string
	npyHeader
	N int // number of values
}

// openNPY reads and checks the header of a .npy file and that the file holds
// exactly the announced data.
func openNPY(path string) (*npyFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	prefix := make([]byte, 12)
	if _, err := io.ReadFull(f, prefix); err != nil {
		return nil, fmt.Errorf("%s: not a .npy file (shorter than a header)", path)
	}
	hlen := 0
	switch prefix[6] {
	case 1:
		hlen = 10 + int(binary.LittleEndian.Uint16(prefix[8:10]))
	default:
		hlen = 12 + int(min(binary.LittleEndian.Uint32(prefix[8:12]), maxNPYHeader))
	}
	buf := make([]byte, max(hlen, 12))
	copy(buf, prefix)
	if hlen > 12 {
		if _, err := io.ReadFull(f, buf[12:]); err != nil {
			return nil, fmt.Errorf("%s: truncated .npy header", path)
		}
	}
	h, err := parseNPYHeader(buf)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	a := &npyFile{Path: path, npyHeader: h, N: h.Len()}
	switch {
	case len(h.Shape) == 1:
	case len(h.Shape) == 2 && (h.Shape[0] == 1 || h.Shape[1] == 1):
	default:
		return nil, fmt.Errorf("%s: shape %v: want a vector (N,) or a column (N,1)", path, h.Shape)
	}
	want := h.DataOffset + int64(a.N)*int64(h.ItemSize)
	if st.Size() != want {
		return nil, fmt.Errorf("%s: header says %d values of %d bytes (%d bytes in all), file has %d bytes",
			path, a.N, h.ItemSize, want, st.Size())
	}
	return a, nil
}

// npyReader reads the values of an npyFile in order, converting them to int64 or
// float64.
type npyReader struct {
	a   *npyFile
	f   *os.File
	r   *bufio.Reader
	buf []byte
	pos int // values read so far
}

func (a *npyFile) reader() (*npyReader, error) {
	f, err := os.Open(a.Path)
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(a.DataOffset, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return &npyReader{a: a, f: f, r: bufio.NewReaderSize(f, 1<<16)}, nil
}

func (r *npyReader) Close() error { return r.f.Close() }

// raw reads the next up to n values' bytes.
func (r *npyReader) raw(n int) ([]byte, error) {
	n = min(n, r.a.N-r.pos)
	need := n * r.a.ItemSize
	if cap(r.buf) < need {
		r.buf = make([]byte, need)
	}
	b := r.buf[:need]
	if _, err := io.ReadFull(r.r, b); err != nil {
		return nil, fmt.Errorf("%s: reading values %d..%d: %v", r.a.Path, r.pos, r.pos+n, err)
	}
	r.pos += n
	return b, nil
}

// Ints fills dst with the next values (an integer array) and returns how many it
// read: 0 at the end.
func (r *npyReader) Ints(dst []int64) (int, error) {
	if r.a.Kind != 'i' && r.a.Kind != 'u' {
		return 0, fmt.Errorf("%s: dtype %q: want integers", r.a.Path, r.a.Descr)
	}
	start := r.pos
	b, err := r.raw(len(dst))
	if err != nil {
		return 0, err
	}
	n := len(b) / r.a.ItemSize
	o := r.a.Order
	signed := r.a.Kind == 'i'
	for i := 0; i < n; i++ {
		switch r.a.ItemSize {
		case 1:
			if signed {
				dst[i] = int64(int8(b[i]))
			} else {
				dst[i] = int64(b[i])
			}
		case 2:
			v := o.Uint16(b[2*i:])
			if signed {
				dst[i] = int64(int16(v))
			} else {
				dst[i] = int64(v)
			}
		case 4:
			v := o.Uint32(b[4*i:])
			if signed {
				dst[i] = int64(int32(v))
			} else {
				dst[i] = int64(v)
			}
		case 8:
			v := o.Uint64(b[8*i:])
			if !signed && v > math.MaxInt64 {
				return 0, fmt.Errorf("%s: value %d at index %d does not fit in int64", r.a.Path, v, start+i)
			}
			dst[i] = int64(v)
		}
	}
	return n, nil
}

// Floats fills dst with the next values of a float or integer array.
func (r *npyReader) Floats(dst []float64) (int, error) {
	if r.a.Kind == 'i' || r.a.Kind == 'u' {
		tmp := make([]int64, len(dst))
		n, err := r.Ints(tmp)
		for i := 0; i < n; i++ {
			dst[i] = float64(tmp[i])
		}
		return n, err
	}
	if r.a.Kind != 'f' {
		return 0, fmt.Errorf("%s: dtype %q: want numbers", r.a.Path, r.a.Descr)
	}
	b, err := r.raw(len(dst))
	if err != nil {
		return 0, err
	}
	n := len(b) / r.a.ItemSize
	o := r.a.Order
	for i := 0; i < n; i++ {
		if r.a.ItemSize == 4 {
			dst[i] = float64(math.Float32frombits(o.Uint32(b[4*i:])))
		} else {
			dst[i] = math.Float64frombits(o.Uint64(b[8*i:]))
		}
	}
	return n, nil
}

// readNPYFloats reads a whole small numeric .npy file (e.g. event times).
func readNPYFloats(path string) ([]float64, error) {
	a, err := openNPY(path)
	if err != nil {
		return nil, err
	}
	r, err := a.reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out := make([]float64, a.N)
	if _, err := r.Floats(out); err != nil {
		return nil, err
	}
	return out, nil
}
