package recording

import (
	"strings"
	"testing"
)

// FuzzNPYHeader: any bytes either parse into a header that describes a plain
// numeric array with a consistent size, or give an error; never a panic.
func FuzzNPYHeader(f *testing.F) {
	f.Add(npyBytes("<u8", true, "(379321, 1)", nil))
	f.Add(npyBytes("<i4", false, "(379321,)", nil))
	f.Add(npyBytes("|u1", false, "()", nil))
	f.Add([]byte("\x93NUMPY\x02\x00\x10\x00\x00\x00{'descr': '<f8'}"))
	f.Add([]byte("\x93NUMPY\x01\x00\x05\x00{((((}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseNPYHeader(b)
		if err != nil {
			return
		}
		if h.ItemSize != 1 && h.ItemSize != 2 && h.ItemSize != 4 && h.ItemSize != 8 {
			t.Fatalf("item size %d", h.ItemSize)
		}
		if !strings.ContainsRune("iufb", rune(h.Kind)) {
			t.Fatalf("kind %q", h.Kind)
		}
		if h.DataOffset > int64(len(b)) || h.DataOffset < 10 {
			t.Fatalf("data offset %d beyond the %d bytes given", h.DataOffset, len(b))
		}
		for _, d := range h.Shape {
			if d < 0 {
				t.Fatalf("negative dimension in %v", h.Shape)
			}
		}
		if h.Len() < 0 || h.Len() > 1<<50 {
			t.Fatalf("length %d", h.Len())
		}
	})
}

// FuzzParamsPy: any text parses or gives an error naming a line; never a panic,
// and every value parsed carries its line.
func FuzzParamsPy(f *testing.F) {
	f.Add([]byte("dat_path = 'sim_binary.dat'\nn_channels_dat = 34\ndtype = 'int16'\noffset = 0\nsample_rate = 25000.\nhp_filtered = False\n"))
	f.Add([]byte("\ufeffdat_path = r'C:\\x.dat'\r\nsample_rate = 3e4 # Hz\r\n"))
	f.Add([]byte("paths = ['a', \"b\", (1, 2)]\n"))
	f.Add([]byte("x = 'unterminated\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseParamsPy(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		lines := strings.Count(string(b), "\n") + 1
		for name, v := range p {
			if v.Line < 1 || v.Line > lines || !isPyIdent(name) {
				t.Fatalf("%q at line %d of %d", name, v.Line, lines)
			}
		}
	})
}

// FuzzSessionYAML: any text parses into a config that passes its checks, or gives
// an error naming the file.
func FuzzSessionYAML(f *testing.F) {
	f.Add([]byte("id: m1\nsample_rate: 30000\nkeep: [good, mua]\nclock_offset_s: -1.5\n"))
	f.Add([]byte("photometry:\n  file: fp.csv\n  time_col: t\n  signal_col: g\n  control_col: iso\nwindow_s: [0, 600]\nblock_s: 30\n"))
	f.Add([]byte("events:\n  file: reward_cue_times.npy\n  label: reward\n"))
	f.Add([]byte("id: [unclosed\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := ParseConfig("session.yaml", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "session.yaml: ") {
				t.Fatalf("error not naming the file: %v", err)
			}
			return
		}
		if err := cfg.check(); err != nil {
			t.Fatalf("accepted a config that fails its checks: %v", err)
		}
	})
}

// FuzzClusterLabels: any tsv content parses or gives an error naming the file.
func FuzzClusterLabels(f *testing.F) {
	f.Add([]byte("cluster_id\tgroup\r\n0\tmua\r\n1\tgood\r\n"))
	f.Add([]byte("id\tamp\tgroup\tKSLabel\n2\t3\t\tgood\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := parseClusterLabels("cluster_group.tsv", b, "group", "KSLabel")
		if err != nil && !strings.HasPrefix(err.Error(), "cluster_group.tsv") {
			t.Fatalf("error not naming the file: %v", err)
		}
	})
}
