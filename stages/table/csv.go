package table

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CSV encoding. Writing: a header row of column names, then one line per row,
// LF line endings; floats in the shortest form that parses back to the same
// float64 (strconv 'g', -1: 0.1, 1e+06, NaN, +Inf, -Inf), ints in decimal,
// bools as true/false; a field is quoted (RFC 4180, "" for a quote) when it
// holds a comma, a quote, CR or LF, and in a one-column table an empty string
// is written as "" so that its line is not blank. Meta is not written.
//
// Reading: the whole input is parsed (RFC 4180 quoting, LF or CRLF line
// endings, an optional UTF-8 byte order mark, blank lines at the end ignored)
// and each column's kind is inferred from all its fields, quoted or not:
//
//   - Int if every field is a decimal integer that fits int64;
//   - Float if every field is a number (anything strconv.ParseFloat accepts,
//     so NaN, Inf, +Inf, -Inf, Infinity in any case) or a missing-value
//     spelling ("", NA, N/A, n/a, NULL, null, None, <NA>, #N/A), which reads as
//     NaN (as pandas does); a column with no data rows is Float too (it then
//     converts to Int or Float for any caller: Table.Int accepts it);
//   - Bool if every field is true/false (also True/False, TRUE/FALSE);
//   - String otherwise, with fields exactly as written.
//
// Spaces and tabs around a number or a bool are ignored when inferring. CSV
// carries no kinds, so a string column whose values all look like numbers
// comes back as numbers; Parquet keeps kinds exactly.

// WriteCSV writes t as CSV (see above).
func WriteCSV(w io.Writer, t *Table) error {
	if err := validate(t); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	line := make([]byte, 0, 256)
	single := len(t.Cols) == 1
	for i, c := range t.Cols {
		if i > 0 {
			line = append(line, ',')
		}
		line = appendCSVString(line, c.Name, single)
	}
	line = append(line, '\n')
	if _, err := bw.Write(line); err != nil {
		return err
	}
	n := t.Len()
	for r := 0; r < n; r++ {
		line = line[:0]
		for i, c := range t.Cols {
			if i > 0 {
				line = append(line, ',')
			}
			switch c.Kind {
			case Float:
				line = strconv.AppendFloat(line, c.F64[r], 'g', -1, 64)
			case Int:
				line = strconv.AppendInt(line, c.I64[r], 10)
			case String:
				line = appendCSVString(line, c.Str[r], single)
			case Bool:
				line = strconv.AppendBool(line, c.Bools[r])
			}
		}
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// appendCSVString appends s, quoted when RFC 4180 requires it (or when it is
// empty and alone on its line, which would otherwise be a blank line).
func appendCSVString(dst []byte, s string, alone bool) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") && !(alone && s == "") {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		dst = append(dst, s[:i+1]...)
		dst = append(dst, '"')
		s = s[i+1:]
	}
	dst = append(dst, s...)
	return append(dst, '"')
}

// WriteCSVFile writes t as CSV to path (created or truncated).
func WriteCSVFile(path string, t *Table) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteCSV(f, t); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// ReadCSVFile reads a CSV file; errors name the file.
func ReadCSVFile(path string) (*Table, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := parseCSV(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// ReadCSV reads a whole CSV input into a table (see above for the kinds).
// Errors give the line number and, where it applies, the column name.
func ReadCSV(r io.Reader) (*Table, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return parseCSV(b)
}

func parseCSV(b []byte) (*Table, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	in := string(b)
	// Blank lines at the end are not records; everything past end is blank.
	p := csvParser{s: in, line: 1, end: len(in) - len(strings.TrimRight(in, "\r\n"))}
	header, err := p.record(nil)
	if err != nil {
		return nil, err
	}
	if header == nil {
		return nil, errors.New("empty CSV: no header line")
	}
	seen := make(map[string]int, len(header))
	for i, name := range header {
		if name == "" {
			return nil, fmt.Errorf("line 1: column %d has an empty name", i+1)
		}
		if !utf8.ValidString(name) {
			return nil, fmt.Errorf("line 1: column %d name is not valid UTF-8", i+1)
		}
		if j, dup := seen[name]; dup {
			return nil, fmt.Errorf("line 1: duplicate column name %q (columns %d and %d)", name, j+1, i+1)
		}
		seen[name] = i
	}
	header = slices.Clone(header) // record reuses its buffer
	p.names = header
	fields := make([][]string, len(header))
	for {
		line := p.line
		rec, err := p.record(header)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			break
		}
		if len(rec) != len(header) {
			if len(rec) < len(header) {
				return nil, fmt.Errorf("line %d: %d fields, header has %d (no value for column %q)", line, len(rec), len(header), header[len(rec)])
			}
			return nil, fmt.Errorf("line %d: %d fields, header has %d columns", line, len(rec), len(header))
		}
		for i, f := range rec {
			fields[i] = append(fields[i], f)
		}
	}
	t := &Table{Meta: map[string]string{}}
	for i, name := range header {
		t.Cols = append(t.Cols, inferColumn(name, fields[i]))
	}
	return t, nil
}

// csvParser splits the input into records.
type csvParser struct {
	s     string   // what is left to parse
	end   int      // the last end bytes of the input are blank lines
	line  int      // line number of the start of s
	names []string // header, to name columns in errors
	buf   []string
}

// record parses the next record. It returns nil at the end of the input,
// which includes any number of blank lines at the end. A blank line
// elsewhere is a record with one empty field.
func (p *csvParser) record(header []string) ([]string, error) {
	if len(p.s) <= p.end {
		return nil, nil
	}
	start := p.line
	rec := p.buf[:0]
	for {
		col := len(rec)
		var f string
		if strings.HasPrefix(p.s, `"`) {
			var err error
			f, err = p.quoted()
			if err != nil {
				return nil, fmt.Errorf("line %d%s: %w", start, p.colName(col), err)
			}
		} else {
			end := strings.IndexAny(p.s, ",\n")
			if end < 0 {
				end = len(p.s)
			}
			f = p.s[:end]
			p.s = p.s[end:]
			if strings.HasSuffix(f, "\r") && (p.s == "" || p.s[0] == '\n') {
				f = f[:len(f)-1]
			}
		}
		if !utf8.ValidString(f) {
			return nil, fmt.Errorf("line %d%s: invalid UTF-8 (the file must be UTF-8)", p.line, p.colName(col))
		}
		rec = append(rec, f)
		switch {
		case p.s == "":
			p.buf = rec
			return rec, nil
		case p.s[0] == ',':
			p.s = p.s[1:]
		case p.s[0] == '\n':
			p.s = p.s[1:]
			p.line++
			p.buf = rec
			return rec, nil
		default:
			// only after a quoted field: text between the closing quote and the
			// separator
			return nil, fmt.Errorf("line %d%s: unexpected text after closing quote", p.line, p.colName(col))
		}
	}
}

// quoted parses a quoted field at the start of p.s.
func (p *csvParser) quoted() (string, error) {
	s := p.s[1:]
	var sb strings.Builder
	plain := true // no doubled quote: the field is a substring of the input
	var out string
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			return "", errors.New("quoted field not closed before the end of the input")
		}
		p.line += strings.Count(s[:i], "\n")
		if i+1 < len(s) && s[i+1] == '"' {
			if plain {
				sb.WriteString(p.s[1 : len(p.s)-len(s)])
				plain = false
			}
			sb.WriteString(s[:i+1])
			s = s[i+2:]
			continue
		}
		if plain {
			out = p.s[1 : len(p.s)-len(s)+i]
		} else {
			sb.WriteString(s[:i])
			out = sb.String()
		}
		s = s[i+1:]
		break
	}
	// CR before LF or at the very end belongs to the line ending.
	if strings.HasPrefix(s, "\r\n") || s == "\r" {
		s = s[1:]
	}
	p.s = s
	return out, nil
}

func (p *csvParser) colName(i int) string {
	if i < len(p.names) {
		return fmt.Sprintf(", column %q", p.names[i])
	}
	if p.names != nil {
		return fmt.Sprintf(", field %d (header has %d columns)", i+1, len(p.names))
	}
	return fmt.Sprintf(", column %d", i+1)
}

// missing are the spellings of a missing value accepted in a Float column.
var missing = map[string]bool{
	"": true, "NA": true, "N/A": true, "n/a": true, "NULL": true, "null": true,
	"None": true, "<NA>": true, "#N/A": true,
}

func parseBool(s string) (v, ok bool) {
	switch s {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	return false, false
}

// inferColumn picks the narrowest kind that holds every field (see the
// comment at the top of the file) and converts.
func inferColumn(name string, fields []string) *Col {
	n := len(fields)
	if n == 0 {
		return &Col{Name: name, Kind: Float, F64: []float64{}}
	}
	ints := make([]int64, n)
	isInt := true
	for i, f := range fields {
		v, err := strconv.ParseInt(strings.Trim(f, " \t"), 10, 64)
		if err != nil {
			isInt = false
			break
		}
		ints[i] = v
	}
	if isInt {
		return &Col{Name: name, Kind: Int, I64: ints}
	}
	floats := make([]float64, n)
	isFloat := true
	for i, f := range fields {
		f = strings.Trim(f, " \t")
		if missing[f] {
			floats[i] = math.NaN()
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			isFloat = false
			break
		}
		floats[i] = v // ±Inf or 0 when out of range, as ParseFloat rounds
	}
	if isFloat {
		return &Col{Name: name, Kind: Float, F64: floats}
	}
	bools := make([]bool, n)
	isBool := true
	for i, f := range fields {
		v, ok := parseBool(strings.Trim(f, " \t"))
		if !ok {
			isBool = false
			break
		}
		bools[i] = v
	}
	if isBool {
		return &Col{Name: name, Kind: Bool, Bools: bools}
	}
	// Fields are substrings of the whole input; copy them so the table does
	// not keep the input alive.
	strs := make([]string, n)
	for i, f := range fields {
		strs[i] = strings.Clone(f)
	}
	return &Col{Name: name, Kind: String, Str: strs}
}
