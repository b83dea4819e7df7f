package recording

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/scigolib/hdf5"
)

// This file is the thin layer between the NWB importers and the pure-Go HDF5
// reader github.com/scigolib/hdf5 (v0.14.0): path lookup, attributes, and typed
// reads that first check, from the dataset's own object header, that the reader
// can decode what the dataset uses. The reader does not say precisely what it
// cannot do (it misparses a version-4 chunked layout as version 3 and then fails
// somewhere in a B-tree), so the check is ours: it names the unsupported feature
// and the command that converts the file.

// nwbReaderName is how errors name the HDF5 reader.
const nwbReaderName = "the pure-Go HDF5 reader (github.com/scigolib/hdf5 v0.14.0)"

// nwbFile is an open NWB (HDF5) file.
type nwbFile struct {
	path string
	f    *hdf5.File
	sb   nwbSuperblock
}

// nwbSuperblock holds what the object-header parser needs from the superblock.
type nwbSuperblock struct {
	offsetSize, lengthSize int
	base                   uint64
}

func openNWB(path string) (*nwbFile, error) {
	f, err := hdf5.Open(path)
	if err != nil {
		if strings.Contains(err.Error(), "not an HDF5 file") {
			return nil, fmt.Errorf("%s: not an HDF5 file (an .nwb file must be NWB:HDF5; NWB Zarr stores are not supported)", path)
		}
		return nil, fmt.Errorf("%s: %s cannot open it: %v%s; %s", path, nwbReaderName, err, nwbFormatNote(superblockVersion(path)), nwbConvertHint)
	}
	sb := f.Superblock()
	n := &nwbFile{path: path, f: f, sb: nwbSuperblock{
		offsetSize: int(sb.OffsetSize), lengthSize: int(sb.LengthSize), base: sb.BaseAddress,
	}}
	if n.sb.offsetSize != 8 && n.sb.offsetSize != 4 || n.sb.lengthSize != 8 && n.sb.lengthSize != 4 {
		f.Close()
		return nil, fmt.Errorf("%s: HDF5 superblock with %d-byte offsets and %d-byte lengths: only 4 or 8 are supported",
			path, sb.OffsetSize, sb.LengthSize)
	}
	return n, nil
}

func (n *nwbFile) Close() error { return n.f.Close() }

// superblockVersion reads the superblock version of an HDF5 file whose superblock
// is at the start of the file (as every NWB writer puts it); -1 if unknown.
func superblockVersion(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer f.Close()
	b := make([]byte, 9)
	if _, err := io.ReadFull(f, b); err != nil || string(b[:8]) != "\x89HDF\r\n\x1a\n" {
		return -1
	}
	return int(b[8])
}

// nwbFormatNote explains, for files in the HDF5 1.10 format, what the reader
// gets wrong: files written with libver="latest" (superblock version 2 or 3 and
// version-2 object headers) fail to open when the root group has attributes, as
// every NWB file's has, and lose groups that have attributes.
func nwbFormatNote(sbVersion int) string {
	if sbVersion < 2 {
		return ""
	}
	return fmt.Sprintf(" (the file uses the HDF5 1.10 format, superblock version %d, written with libver='latest'; "+
		"the reader fails on its version-2 object headers when groups carry attributes)", sbVersion)
}

// missing is the error for an object the file lacks; in the HDF5 1.10 format
// the reader may have dropped it, which the message says.
func (n *nwbFile) missing(what string) error {
	note := nwbFormatNote(int(n.f.SuperblockVersion()))
	if note == "" {
		return fmt.Errorf("%s: %s", n.path, what)
	}
	return fmt.Errorf("%s: %s%s; %s", n.path, what, note, nwbConvertHint)
}

// lookup returns the object at an absolute path such as "/units/spike_times",
// or nil. Soft links are not followed (the reader lists them as empty groups).
func (n *nwbFile) lookup(path string) hdf5.Object {
	var cur hdf5.Object = n.f.Root()
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		if part == "" {
			continue
		}
		g, ok := cur.(*hdf5.Group)
		if !ok {
			return nil
		}
		cur = nil
		for _, c := range g.Children() {
			if c.Name() == part {
				cur = c
				break
			}
		}
		if cur == nil {
			return nil
		}
	}
	return cur
}

func (n *nwbFile) group(path string) *hdf5.Group {
	g, _ := n.lookup(path).(*hdf5.Group)
	return g
}

func (n *nwbFile) dataset(path string) *hdf5.Dataset {
	d, _ := n.lookup(path).(*hdf5.Dataset)
	return d
}

// nwbChild returns the named child of g, or nil.
func nwbChild(g *hdf5.Group, name string) hdf5.Object {
	for _, c := range g.Children() {
		if c.Name() == name {
			return c
		}
	}
	return nil
}

// nwbGroupAttr reads one attribute of a group; ok is false when it is missing or
// unreadable (e.g. an object reference, which the reader cannot decode).
func nwbGroupAttr(g *hdf5.Group, name string) (any, bool) {
	attrs, err := g.Attributes()
	if err != nil {
		return nil, false
	}
	for _, a := range attrs {
		if a.Name == name {
			v, err := a.ReadValue()
			return v, err == nil
		}
	}
	return nil, false
}

// nwbDatasetAttr reads one attribute of a dataset.
func nwbDatasetAttr(d *hdf5.Dataset, name string) (any, bool) {
	attrs, err := d.Attributes()
	if err != nil {
		return nil, false
	}
	for _, a := range attrs {
		if a.Name == name {
			v, err := a.ReadValue()
			return v, err == nil
		}
	}
	return nil, false
}

// nwbAttrString turns an attribute value into a string (the first element of an
// array of strings).
func nwbAttrString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return strings.TrimRight(x, "\x00"), true
	case []string:
		if len(x) > 0 {
			return strings.TrimRight(x[0], "\x00"), true
		}
	case []byte:
		return strings.TrimRight(string(x), "\x00"), true
	}
	return "", false
}

// nwbAttrFloat turns a numeric attribute value into a float64 (the first element
// of an array).
func nwbAttrFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case []float64:
		if len(x) > 0 {
			return x[0], true
		}
	case []float32:
		if len(x) > 0 {
			return float64(x[0]), true
		}
	case []int32:
		if len(x) > 0 {
			return float64(x[0]), true
		}
	case []int64:
		if len(x) > 0 {
			return float64(x[0]), true
		}
	}
	return 0, false
}

// nwbType is the neurodata_type attribute of a group ("" when absent).
func nwbType(g *hdf5.Group) string {
	v, ok := nwbGroupAttr(g, "neurodata_type")
	if !ok {
		return ""
	}
	s, _ := nwbAttrString(v)
	return s
}

// HDF5 datatype classes (the low nibble of a datatype message's first byte).
const (
	h5ClassFixed     = 0
	h5ClassFloat     = 1
	h5ClassString    = 3
	h5ClassCompound  = 6
	h5ClassReference = 7
	h5ClassEnum      = 8
	h5ClassVarLen    = 9
)

// HDF5 layout classes.
const (
	h5LayoutCompact    = 0
	h5LayoutContiguous = 1
	h5LayoutChunked    = 2
	h5LayoutVirtual    = 3
)

// nwbStorage is what a dataset's object header says about how its values are
// stored, as far as deciding whether the reader can read them.
type nwbStorage struct {
	Class     byte     // datatype class
	Size      int      // bytes per element
	Dims      []uint64 // dataspace dimensions (nil for a scalar)
	LayoutVer byte     // data layout message version
	Layout    byte     // layout class
	// ChunkIndex is the chunk index type of a version-4 chunked layout (1 single
	// chunk, 2 implicit, 3 fixed array, 4 extensible array, 5 version-2 B-tree).
	ChunkIndex byte
	Filters    []uint16 // filter pipeline, in the order applied when writing
}

// Len is the number of elements.
func (s nwbStorage) Len() uint64 {
	n := uint64(1)
	for _, d := range s.Dims {
		n *= d
	}
	return n
}

// HDF5 object header message types used here.
const (
	h5MsgDataspace    = 0x01
	h5MsgDatatype     = 0x03
	h5MsgLayout       = 0x08
	h5MsgFilters      = 0x0B
	h5MsgContinuation = 0x10
)

// maxHeaderBlocks bounds how many continuation blocks we follow (a corrupt file
// could chain them in a loop).
const maxHeaderBlocks = 64

// storage parses the object header of d (HDF5 file format specification, section
// IV.A: version-1 headers, which pynwb and h5py write by default, and version-2
// "OHDR" headers of files written with libver="latest").
func (n *nwbFile) storage(d *hdf5.Dataset) (nwbStorage, error) {
	var st nwbStorage
	msgs, err := n.headerMessages(d.Address())
	if err != nil {
		return st, err
	}
	var haveType, haveSpace, haveLayout bool
	for _, m := range msgs {
		switch m.typ {
		case h5MsgDatatype:
			if len(m.data) < 8 {
				return st, errors.New("datatype message too short")
			}
			st.Class = m.data[0] & 0x0F
			st.Size = int(binary.LittleEndian.Uint32(m.data[4:8]))
			haveType = true
		case h5MsgDataspace:
			dims, err := n.parseDataspace(m.data)
			if err != nil {
				return st, err
			}
			st.Dims = dims
			haveSpace = true
		case h5MsgLayout:
			if len(m.data) < 2 {
				return st, errors.New("layout message too short")
			}
			st.LayoutVer = m.data[0]
			if st.LayoutVer >= 3 {
				st.Layout = m.data[1]
			}
			if st.LayoutVer == 4 && st.Layout == h5LayoutChunked {
				// version, class, flags, rank, encoded dimension size, dims, index type
				if len(m.data) < 5 {
					return st, errors.New("layout message too short")
				}
				rank, enc := int(m.data[3]), int(m.data[4])
				at := 5 + rank*enc
				if at >= len(m.data) {
					return st, errors.New("layout message too short")
				}
				st.ChunkIndex = m.data[at]
			}
			haveLayout = true
		case h5MsgFilters:
			ids, err := parseFilterIDs(m.data)
			if err != nil {
				return st, err
			}
			st.Filters = ids
		}
	}
	if !haveType || !haveSpace || !haveLayout {
		return st, errors.New("object header lacks a datatype, dataspace or layout message: not a dataset")
	}
	return st, nil
}

type h5Message struct {
	typ  int
	data []byte
}

// headerMessages reads every message of the object header at addr, following
// continuation blocks.
func (n *nwbFile) headerMessages(addr uint64) ([]h5Message, error) {
	r := n.f.Reader()
	abs := func(a uint64) int64 { return int64(a + n.sb.base) }
	sig := make([]byte, 4)
	if _, err := r.ReadAt(sig, abs(addr)); err != nil {
		return nil, fmt.Errorf("object header at %#x: %v", addr, err)
	}
	// A block of messages; cont marks a version-2 continuation block, which has
	// an "OCHK" signature before its messages and a checksum after them (the
	// first block's length excludes both the prefix and the checksum).
	type block struct {
		addr, length uint64
		cont         bool
	}
	var msgs []h5Message
	v2 := string(sig) == "OHDR"
	var queue []block
	trackOrder := false
	if v2 {
		pre := make([]byte, 6+16+4+8)
		if _, err := r.ReadAt(pre, abs(addr)); err != nil && err != io.EOF {
			return nil, fmt.Errorf("object header at %#x: %v", addr, err)
		}
		if pre[4] != 2 {
			return nil, fmt.Errorf("object header at %#x: version %d", addr, pre[4])
		}
		flags := pre[5]
		at := 6
		if flags&0x20 != 0 {
			at += 16 // access, modification, change, birth times
		}
		if flags&0x10 != 0 {
			at += 4 // attribute storage phase change values
		}
		trackOrder = flags&0x04 != 0
		w := 1 << (flags & 3)
		size := readUintN(pre[at:at+w], w)
		at += w
		queue = append(queue, block{addr + uint64(at), size, false})
	} else {
		pre := make([]byte, 16)
		if _, err := r.ReadAt(pre, abs(addr)); err != nil {
			return nil, fmt.Errorf("object header at %#x: %v", addr, err)
		}
		if pre[0] != 1 {
			return nil, fmt.Errorf("object header at %#x: unknown version %d", addr, pre[0])
		}
		size := uint64(binary.LittleEndian.Uint32(pre[8:12]))
		queue = append(queue, block{addr + 16, size, false})
	}
	for nb := 0; len(queue) > 0; nb++ {
		if nb >= maxHeaderBlocks {
			return nil, fmt.Errorf("object header at %#x: more than %d continuation blocks", addr, maxHeaderBlocks)
		}
		b := queue[0]
		queue = queue[1:]
		if b.length > 1<<24 {
			return nil, fmt.Errorf("object header at %#x: implausible block length %d", addr, b.length)
		}
		buf := make([]byte, b.length)
		if _, err := r.ReadAt(buf, abs(b.addr)); err != nil {
			return nil, fmt.Errorf("object header block at %#x: %v", b.addr, err)
		}
		body := buf
		if b.cont {
			if len(buf) < 8 || string(buf[:4]) != "OCHK" {
				return nil, fmt.Errorf("object header continuation block at %#x: no OCHK signature", b.addr)
			}
			body = buf[4 : len(buf)-4]
		}
		for at := 0; ; {
			var typ, size int
			if v2 {
				hdr := 4
				if trackOrder {
					hdr = 6
				}
				if at+hdr > len(body) {
					break // gap at the end of the block
				}
				typ = int(body[at])
				size = int(binary.LittleEndian.Uint16(body[at+1 : at+3]))
				at += hdr
			} else {
				if at+8 > len(body) {
					break
				}
				typ = int(binary.LittleEndian.Uint16(body[at : at+2]))
				size = int(binary.LittleEndian.Uint16(body[at+2 : at+4]))
				at += 8
			}
			if at+size > len(body) {
				return nil, fmt.Errorf("object header at %#x: message of type %#x runs past its block", addr, typ)
			}
			data := body[at : at+size]
			at += size
			if typ == h5MsgContinuation {
				if len(data) < n.sb.offsetSize+n.sb.lengthSize {
					return nil, fmt.Errorf("object header at %#x: short continuation message", addr)
				}
				ca := readUintN(data, n.sb.offsetSize)
				cl := readUintN(data[n.sb.offsetSize:], n.sb.lengthSize)
				queue = append(queue, block{ca, cl, v2})
				continue
			}
			msgs = append(msgs, h5Message{typ, data})
		}
	}
	return msgs, nil
}

// parseDataspace decodes a dataspace message (versions 1 and 2).
func (n *nwbFile) parseDataspace(b []byte) ([]uint64, error) {
	if len(b) < 4 {
		return nil, errors.New("dataspace message too short")
	}
	rank := int(b[1])
	at := 8 // version 1: version, rank, flags, reserved, 4 reserved bytes
	if b[0] == 2 {
		at = 4         // version, rank, flags, type
		if b[3] == 2 { // null dataspace
			return []uint64{0}, nil
		}
	}
	if at+rank*n.sb.lengthSize > len(b) {
		return nil, errors.New("dataspace message too short")
	}
	dims := make([]uint64, rank)
	for i := range dims {
		dims[i] = readUintN(b[at:], n.sb.lengthSize)
		at += n.sb.lengthSize
	}
	return dims, nil
}

// parseFilterIDs decodes the filter ids of a filter pipeline message (versions 1
// and 2).
func parseFilterIDs(b []byte) ([]uint16, error) {
	if len(b) < 2 {
		return nil, errors.New("filter pipeline message too short")
	}
	ver, nf := b[0], int(b[1])
	at := 2
	if ver == 1 {
		at = 8
	}
	ids := make([]uint16, 0, nf)
	for i := 0; i < nf; i++ {
		if at+2 > len(b) {
			return nil, errors.New("filter pipeline message truncated")
		}
		id := binary.LittleEndian.Uint16(b[at:])
		at += 2
		nameLen := 0
		if ver == 1 || id >= 256 {
			if at+2 > len(b) {
				return nil, errors.New("filter pipeline message truncated")
			}
			nameLen = int(binary.LittleEndian.Uint16(b[at:]))
			at += 2
		}
		if at+4 > len(b) {
			return nil, errors.New("filter pipeline message truncated")
		}
		nValues := int(binary.LittleEndian.Uint16(b[at+2:]))
		at += 4
		if ver == 1 {
			nameLen = (nameLen + 7) &^ 7
		}
		at += nameLen + 4*nValues
		if ver == 1 && nValues%2 == 1 {
			at += 4
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func readUintN(b []byte, n int) uint64 {
	switch n {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	default:
		return binary.LittleEndian.Uint64(b)
	}
}

// h5Filters names the HDF5 filters by registered id (The HDF Group's filter
// registry); supported says whether the reader decodes them.
var h5Filters = map[uint16]struct {
	name      string
	supported bool
}{
	1: {"deflate (gzip)", true}, 2: {"shuffle", true}, 3: {"fletcher32", true},
	4: {"szip", true}, 5: {"nbit", false}, 6: {"scaleoffset", false},
	307: {"bzip2", true}, 32000: {"lzf", true}, 32001: {"blosc", false},
	32004: {"lz4", false}, 32008: {"bitshuffle", false}, 32013: {"zfp", false},
	32015: {"zstd", false}, 32017: {"sz", false}, 32026: {"blosc2", false},
}

// h5ChunkIndexes names the chunk indexes of version-4 layouts.
var h5ChunkIndexes = map[byte]string{
	1: "single chunk", 2: "implicit", 3: "fixed array", 4: "extensible array", 5: "version-2 B-tree",
}

// nwbConvertHint is the advice for files the reader cannot read.
const nwbConvertHint = "rewrite the file with HDF5's h5repack, e.g. `h5repack -l CONTI -f NONE in.nwb out.nwb` " +
	"(contiguous, uncompressed, written in the HDF5 1.8 format this reader understands; needs the filter plugin " +
	"when the data are compressed with a plugin filter), or re-export it with pynwb/h5py using their defaults " +
	"(libver='earliest', gzip compression)"

// checkReadable returns an error saying exactly why the reader cannot read d, or
// nil. what names the dataset for the message.
func (n *nwbFile) checkReadable(d *hdf5.Dataset, what string) (nwbStorage, error) {
	st, err := n.storage(d)
	if err != nil {
		return st, fmt.Errorf("%s: %s: cannot parse the dataset's object header: %v", n.path, what, err)
	}
	fail := func(why string) error {
		return fmt.Errorf("%s: %s %s, which %s cannot read; %s", n.path, what, why, nwbReaderName, nwbConvertHint)
	}
	switch {
	case st.Class == h5ClassReference:
		return st, fmt.Errorf("%s: %s holds HDF5 object references, which %s cannot read", n.path, what, nwbReaderName)
	case st.LayoutVer < 3:
		return st, fail(fmt.Sprintf("uses the HDF5 1.6-era data layout (layout message version %d)", st.LayoutVer))
	case st.Layout == h5LayoutVirtual:
		return st, fail("is a virtual dataset (it maps data stored in other datasets or files)")
	case st.LayoutVer >= 4 && st.Layout == h5LayoutChunked:
		name := h5ChunkIndexes[st.ChunkIndex]
		if name == "" {
			name = fmt.Sprintf("type %d", st.ChunkIndex)
		}
		return st, fail(fmt.Sprintf("is chunked with the %s chunk index (layout version 4, HDF5 1.10+ files written with libver='latest')", name))
	}
	for _, id := range st.Filters {
		f, known := h5Filters[id]
		switch {
		case !known:
			return st, fail(fmt.Sprintf("is filtered with HDF5 filter id %d (not a filter this reader knows)", id))
		case !f.supported:
			return st, fail(fmt.Sprintf("is compressed with the %s filter (HDF5 filter id %d)", f.name, id))
		}
	}
	return st, nil
}

// readFloats reads a numeric dataset (integers are converted) as float64.
func (n *nwbFile) readFloats(d *hdf5.Dataset, what string) ([]float64, nwbStorage, error) {
	st, err := n.checkReadable(d, what)
	if err != nil {
		return nil, st, err
	}
	if st.Class != h5ClassFixed && st.Class != h5ClassFloat {
		return nil, st, fmt.Errorf("%s: %s is not numeric (HDF5 datatype class %d)", n.path, what, st.Class)
	}
	v, err := d.Read()
	if err != nil {
		return nil, st, fmt.Errorf("%s: %s: %s failed: %v; if h5py reads the file, %s", n.path, what, nwbReaderName, err, nwbConvertHint)
	}
	if uint64(len(v)) != st.Len() {
		return nil, st, fmt.Errorf("%s: %s: read %d values, the dataspace holds %d", n.path, what, len(v), st.Len())
	}
	return v, st, nil
}

// readInts reads an integer dataset; the reader returns float64, exact below 2^53.
func (n *nwbFile) readInts(d *hdf5.Dataset, what string) ([]int64, error) {
	v, st, err := n.readFloats(d, what)
	if err != nil {
		return nil, err
	}
	if st.Class != h5ClassFixed {
		return nil, fmt.Errorf("%s: %s holds floating-point numbers, want integers", n.path, what)
	}
	out := make([]int64, len(v))
	for i, x := range v {
		if math.Abs(x) > 1<<53 {
			return nil, fmt.Errorf("%s: %s[%d] = %v is too large to read exactly", n.path, what, i, x)
		}
		out[i] = int64(x)
	}
	return out, nil
}

// readStrings reads a dataset of fixed-length or variable-length strings.
func (n *nwbFile) readStrings(d *hdf5.Dataset, what string) ([]string, error) {
	st, err := n.checkReadable(d, what)
	if err != nil {
		return nil, err
	}
	switch st.Class {
	case h5ClassString:
		s, err := d.ReadStrings()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", n.path, what, err)
		}
		return s, nil
	case h5ClassVarLen:
		b, err := d.ReadVLenBytes()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", n.path, what, err)
		}
		out := make([]string, len(b))
		for i, x := range b {
			out[i] = strings.TrimRight(string(x), "\x00")
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: %s does not hold strings (HDF5 datatype class %d)", n.path, what, st.Class)
}
