package table

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go/format"
	"github.com/pierrec/lz4/v4"
)

// Checks run before parquet-go reads a structure whose lengths it trusts.
//
// parquet-go v0.32 allocates what a file claims: a footer length, a thrift
// list or string length (up to 2^31 elements), a page's uncompressed size, a
// snappy block's or zstd frame's decoded size (zstd up to 64 GiB), and its
// LZ4_RAW decoder doubles its output buffer forever on corrupt input. A
// damaged file would then take the process down with an out-of-memory fatal
// error, which recover cannot catch. So every such length is checked here
// against the bytes actually present first.

// maxPageBytes bounds the uncompressed size of one page. Writers use pages of
// 64 KiB (DuckDB) to 1 MiB (pyarrow, Spark); parquet-go 256 KiB.
const maxPageBytes = 256 << 20

// maxThriftDepth bounds struct nesting in thrift (a parquet footer nests
// about 6 deep) so that a crafted file cannot overflow the stack.
const maxThriftDepth = 32

var errCorruptThrift = errors.New("corrupt thrift structure")

// checkFooterThrift walks the footer's thrift encoding without building it,
// checking that every list and string fits in the bytes left.
func checkFooterThrift(r io.ReaderAt, size int64) error {
	var tail [8]byte
	if err := readAt(r, tail[:], size-8); err != nil {
		return err
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	footer := make([]byte, n)
	if err := readAt(r, footer, size-8-n); err != nil {
		return fmt.Errorf("reading parquet footer: %w", err)
	}
	w := thriftWalker{b: footer}
	if err := w.skipStruct(0); err != nil {
		return fmt.Errorf("corrupt parquet footer: %w", err)
	}
	return nil
}

// checkColumnChunk walks the page headers of one column chunk and checks
// their sizes and, for snappy, zstd and LZ4_RAW, the decoded sizes the
// compressed data claims.
func checkColumnChunk(r io.ReaderAt, fileSize int64, cc *format.ColumnChunk, name string) error {
	md := &cc.MetaData
	switch md.Codec {
	case format.Uncompressed, format.Snappy, format.Gzip, format.Brotli, format.Zstd, format.Lz4Raw:
	default:
		return fmt.Errorf("column %q: compression %s is not supported", name, md.Codec)
	}
	start := md.DataPageOffset
	if md.DictionaryPageOffset != 0 {
		start = md.DictionaryPageOffset
	}
	end := start + md.TotalCompressedSize
	if start < 4 || md.TotalCompressedSize < 0 || end > fileSize-8 || end < start {
		return fmt.Errorf("column %q: column chunk [%d, %d) lies outside the file (%d bytes)", name, start, end, fileSize)
	}
	var buf []byte
	for pos := start; pos < end; {
		h, err := readPageHeader(r, pos, end, &buf)
		if err != nil {
			return fmt.Errorf("column %q: page header at byte %d: %w", name, pos, err)
		}
		dataStart := pos + int64(h.headerLen)
		if h.compressed < 0 || h.uncompressed < 0 || dataStart+int64(h.compressed) > end {
			return fmt.Errorf("column %q: page at byte %d claims %d bytes, the column chunk has %d left", name, pos, h.compressed, end-dataStart)
		}
		if h.uncompressed > maxPageBytes {
			return fmt.Errorf("column %q: page at byte %d claims %d bytes uncompressed (limit %d)", name, pos, h.uncompressed, maxPageBytes)
		}
		if h.numValues < 0 || h.levelBytes < 0 || h.levelBytes > h.compressed || h.levelBytes > h.uncompressed {
			return fmt.Errorf("column %q: page at byte %d has inconsistent counts", name, pos)
		}
		if md.Codec != format.Uncompressed && h.valuesCompressed && (h.pageType == format.DataPage || h.pageType == format.DataPageV2 || h.pageType == format.DictionaryPage) {
			off := dataStart + int64(h.levelBytes)
			if err := checkCompressed(r, md.Codec, off, h.compressed-h.levelBytes, h.uncompressed-h.levelBytes); err != nil {
				return fmt.Errorf("column %q: page at byte %d: %w", name, pos, err)
			}
		}
		pos = dataStart + int64(h.compressed)
	}
	return nil
}

type pageHeader struct {
	headerLen        int
	pageType         format.PageType
	uncompressed     int32
	compressed       int32
	numValues        int32
	levelBytes       int32 // v2: level bytes stored uncompressed before the values
	valuesCompressed bool
}

// readPageHeader parses the thrift page header at pos, reading more bytes as
// needed (headers hold statistics of any size) but never past end.
func readPageHeader(r io.ReaderAt, pos, end int64, buf *[]byte) (pageHeader, error) {
	for want := int64(256); ; want *= 16 {
		n := min(want, end-pos)
		if int64(cap(*buf)) < n {
			*buf = make([]byte, n)
		}
		b := (*buf)[:n]
		if err := readAt(r, b, pos); err != nil {
			return pageHeader{}, err
		}
		h, err := parsePageHeader(b)
		if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) || n == end-pos {
			return h, err
		}
	}
}

func parsePageHeader(b []byte) (pageHeader, error) {
	h := pageHeader{valuesCompressed: true, numValues: 0}
	w := thriftWalker{b: b}
	var last int16
	for {
		id, typ, err := w.fieldHeader(&last)
		if err != nil {
			return h, err
		}
		if typ == tStop {
			break
		}
		switch {
		case id == 1 && typ == tI32:
			v, err := w.varint()
			h.pageType = format.PageType(zigzag32(v))
			if err != nil {
				return h, err
			}
		case id == 2 && typ == tI32:
			v, err := w.varint()
			h.uncompressed = zigzag32(v)
			if err != nil {
				return h, err
			}
		case id == 3 && typ == tI32:
			v, err := w.varint()
			h.compressed = zigzag32(v)
			if err != nil {
				return h, err
			}
		case (id == 5 || id == 7) && typ == tStruct: // data page v1, dictionary page
			if err := w.structFields(1, func(fid int16, ftyp byte) (bool, error) {
				if fid == 1 && ftyp == tI32 {
					v, err := w.varint()
					h.numValues = zigzag32(v)
					return true, err
				}
				return false, nil
			}); err != nil {
				return h, err
			}
		case id == 8 && typ == tStruct: // data page v2
			var rep, def int32
			if err := w.structFields(1, func(fid int16, ftyp byte) (bool, error) {
				switch {
				case fid == 1 && ftyp == tI32:
					v, err := w.varint()
					h.numValues = zigzag32(v)
					return true, err
				case fid == 5 && ftyp == tI32:
					v, err := w.varint()
					def = zigzag32(v)
					return true, err
				case fid == 6 && ftyp == tI32:
					v, err := w.varint()
					rep = zigzag32(v)
					return true, err
				case fid == 7 && (ftyp == tTrue || ftyp == tFalse):
					h.valuesCompressed = ftyp == tTrue
					return true, nil
				}
				return false, nil
			}); err != nil {
				return h, err
			}
			if rep < 0 || def < 0 || int64(rep)+int64(def) > 1<<31-1 {
				return h, errCorruptThrift
			}
			h.levelBytes = rep + def
		default:
			if err := w.skip(typ, 1); err != nil {
				return h, err
			}
		}
	}
	h.headerLen = w.pos
	return h, nil
}

// checkCompressed checks that compressed data at off (n bytes) does not claim
// to decode to more than limit bytes, or for LZ4_RAW that it decodes at all.
func checkCompressed(r io.ReaderAt, codec format.CompressionCodec, off int64, n, limit int32) error {
	switch codec {
	case format.Snappy:
		head := make([]byte, min(n, binary.MaxVarintLen32))
		if err := readAt(r, head, off); err != nil {
			return err
		}
		size, k := binary.Uvarint(head)
		if k <= 0 || size > uint64(limit) {
			return fmt.Errorf("snappy block claims %d bytes, the page %d", size, limit)
		}
	case format.Zstd:
		total, err := zstdContentSize(r, off, int64(n))
		if err != nil {
			return err
		}
		if total > uint64(limit) {
			return fmt.Errorf("zstd frames claim %d bytes, the page %d", total, limit)
		}
	case format.Lz4Raw:
		data := make([]byte, n)
		if err := readAt(r, data, off); err != nil {
			return err
		}
		if _, err := lz4.UncompressBlock(data, make([]byte, limit)); err != nil {
			return fmt.Errorf("corrupt LZ4_RAW block: %w", err)
		}
	}
	return nil
}

// zstdContentSize walks the frames of the zstd stream in [off, off+n) (RFC
// 8878 section 3.1) and adds up the content sizes their headers declare. It
// reads only frame and block headers, skipping block contents.
func zstdContentSize(r io.ReaderAt, off, n int64) (uint64, error) {
	corrupt := errors.New("corrupt zstd data")
	end := off + n
	var hdr [14]byte
	read := func(k int) ([]byte, error) {
		if int64(k) > end-off {
			return nil, corrupt
		}
		if err := readAt(r, hdr[:k], off); err != nil {
			return nil, err
		}
		off += int64(k)
		return hdr[:k], nil
	}
	var total uint64
	for off < end {
		b, err := read(4)
		if err != nil {
			return 0, err
		}
		magic := binary.LittleEndian.Uint32(b)
		if magic&0xFFFFFFF0 == 0x184D2A50 { // skippable frame
			b, err := read(4)
			if err != nil {
				return 0, err
			}
			off += int64(binary.LittleEndian.Uint32(b))
			continue
		}
		if magic != 0xFD2FB528 {
			return 0, corrupt
		}
		b, err = read(1)
		if err != nil {
			return 0, err
		}
		fhd := b[0]
		single := fhd>>5&1 == 1
		checksum := fhd>>2&1 == 1
		if fhd>>3&1 == 1 { // reserved bit
			return 0, corrupt
		}
		skip := [4]int{0, 1, 2, 4}[fhd&3] // dictionary id
		if !single {
			skip++ // window descriptor
		}
		fcsBytes := [4]int{0, 2, 4, 8}[fhd>>6]
		if fhd>>6 == 0 && single {
			fcsBytes = 1
		}
		b, err = read(skip + fcsBytes)
		if err != nil {
			return 0, err
		}
		fcs := b[skip:]
		switch fcsBytes {
		case 1:
			total += uint64(fcs[0])
		case 2:
			total += uint64(binary.LittleEndian.Uint16(fcs)) + 256
		case 4:
			total += uint64(binary.LittleEndian.Uint32(fcs))
		case 8:
			v := binary.LittleEndian.Uint64(fcs)
			if v > 1<<40 {
				return 0, fmt.Errorf("zstd frame claims %d bytes", v)
			}
			total += v
		}
		for {
			b, err := read(3)
			if err != nil {
				return 0, err
			}
			bh := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
			size := int64(bh >> 3)
			switch bh >> 1 & 3 {
			case 1: // RLE block: one byte, repeated size times
				size = 1
			case 3:
				return 0, corrupt
			}
			if size > end-off {
				return 0, corrupt
			}
			off += size
			if bh&1 == 1 {
				break
			}
		}
		if checksum {
			off += 4
		}
	}
	if off > end {
		return 0, corrupt
	}
	return total, nil
}

// checkRowGroup runs checkColumnChunk on the planned columns of a row
// group.
func (pf *parquetFile) checkRowGroup(index int) error {
	md := pf.f.Metadata()
	if index >= len(md.RowGroups) {
		return fmt.Errorf("row group %d missing from the footer", index)
	}
	chunks := md.RowGroups[index].Columns
	for _, c := range pf.cols {
		if c.leaf >= len(chunks) {
			return fmt.Errorf("column %q: row group %d has %d column chunks", c.name, index, len(chunks))
		}
		if err := checkColumnChunk(pf.r, pf.size, &chunks[c.leaf], c.name); err != nil {
			return err
		}
	}
	return nil
}

// readAt fills b from off: a short read is an error, io.EOF with a full read
// is not (io.ReaderAt allows either at the end of the input).
func readAt(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// Thrift compact protocol type codes.
const (
	tStop   = 0
	tTrue   = 1
	tFalse  = 2
	tByte   = 3
	tI16    = 4
	tI32    = 5
	tI64    = 6
	tDouble = 7
	tBinary = 8
	tList   = 9
	tSet    = 10
	tMap    = 11
	tStruct = 12
)

// thriftWalker reads thrift compact encoding from a byte slice, checking
// every length against the bytes left.
type thriftWalker struct {
	b   []byte
	pos int
}

func (w *thriftWalker) byte() (byte, error) {
	if w.pos >= len(w.b) {
		return 0, io.ErrUnexpectedEOF
	}
	c := w.b[w.pos]
	w.pos++
	return c, nil
}

func (w *thriftWalker) varint() (uint64, error) {
	v, n := binary.Uvarint(w.b[w.pos:])
	if n == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if n < 0 {
		return 0, errCorruptThrift
	}
	w.pos += n
	return v, nil
}

func zigzag32(v uint64) int32 { return int32(uint32(v>>1) ^ -uint32(v&1)) }

// length reads a size that must not exceed the bytes left (every element
// or byte it counts takes at least one byte).
func (w *thriftWalker) length() (int, error) {
	v, err := w.varint()
	if err != nil {
		return 0, err
	}
	if v > uint64(len(w.b)-w.pos) {
		return 0, io.ErrUnexpectedEOF
	}
	return int(v), nil
}

// fieldHeader reads a struct field header (delta or explicit id).
func (w *thriftWalker) fieldHeader(last *int16) (int16, byte, error) {
	c, err := w.byte()
	if err != nil || c == tStop {
		return 0, tStop, err
	}
	typ := c & 0x0F
	if delta := int16(c >> 4); delta != 0 {
		*last += delta
	} else {
		v, err := w.varint()
		if err != nil {
			return 0, 0, err
		}
		*last = int16(zigzag32(v))
	}
	return *last, typ, nil
}

// structFields reads a struct, calling fn for each field; fn reads the
// field and returns true, or returns false to have it skipped.
func (w *thriftWalker) structFields(depth int, fn func(id int16, typ byte) (bool, error)) error {
	if depth > maxThriftDepth {
		return errCorruptThrift
	}
	var last int16
	for {
		id, typ, err := w.fieldHeader(&last)
		if err != nil {
			return err
		}
		if typ == tStop {
			return nil
		}
		done, err := fn(id, typ)
		if err != nil {
			return err
		}
		if !done {
			if err := w.skip(typ, depth+1); err != nil {
				return err
			}
		}
	}
}

func (w *thriftWalker) skipStruct(depth int) error {
	return w.structFields(depth, func(int16, byte) (bool, error) { return false, nil })
}

// skip passes over one value of the given type.
func (w *thriftWalker) skip(typ byte, depth int) error {
	if depth > maxThriftDepth {
		return errCorruptThrift
	}
	switch typ {
	case tTrue, tFalse:
		return nil
	case tByte:
		_, err := w.byte()
		return err
	case tI16, tI32, tI64:
		_, err := w.varint()
		return err
	case tDouble:
		if len(w.b)-w.pos < 8 {
			return io.ErrUnexpectedEOF
		}
		w.pos += 8
		return nil
	case tBinary:
		n, err := w.length()
		w.pos += n
		return err
	case tList, tSet:
		c, err := w.byte()
		if err != nil {
			return err
		}
		n := int(c >> 4)
		if n == 15 {
			if n, err = w.length(); err != nil {
				return err
			}
		} else if n > len(w.b)-w.pos {
			return io.ErrUnexpectedEOF
		}
		elem := c & 0x0F
		for range n {
			if elem == tTrue || elem == tFalse { // bools in lists take a byte
				if _, err := w.byte(); err != nil {
					return err
				}
				continue
			}
			if err := w.skip(elem, depth+1); err != nil {
				return err
			}
		}
		return nil
	case tMap:
		n, err := w.length()
		if err != nil || n == 0 {
			return err
		}
		kv, err := w.byte()
		if err != nil {
			return err
		}
		for range 2 * n {
			typ := kv >> 4
			kv = kv<<4 | kv>>4
			if typ == tTrue || typ == tFalse { // bools in maps take a byte
				if _, err := w.byte(); err != nil {
					return err
				}
			} else if err := w.skip(typ, depth+1); err != nil {
				return err
			}
		}
		return nil
	case tStruct:
		return w.skipStruct(depth + 1)
	}
	return errCorruptThrift
}
