package figures

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"nmdyn/stages/rnn"
)

// summaryStages are the stages whose summary.json is merged, in this order; their
// top-level keys are disjoint (models and selection from select, dynamics,
// meanfield, clustering, prediction).
var summaryStages = []string{"select", "fixedpoints", "meanfield", "cluster", "predict"}

// requiredKeys are the summary keys of DESIGN.md section 6 (dotted paths; models
// are listed per variant by requiredModelKeys).
var requiredKeys = []string{
	"ne.control_fit",
	"selection.winner", "selection.indistinguishable", "selection.ne_effect_significant",
	"dynamics.ne_grid", "dynamics.regime", "dynamics.line_attractor_score",
	"dynamics.line_attractor_ne_range", "dynamics.slowest_tau_s",
	"meanfield.populations", "meanfield.regime", "meanfield.agreement_with_rnn",
	"clustering.n_clusters", "clustering.bic", "clustering.stability_ari", "clustering.ari_with_meanfield",
	"prediction.responsiveness.inverted_u", "prediction.responsiveness.peak_ne", "prediction.responsiveness.p_value",
	"prediction.variability.inverted_u", "prediction.variability.peak_ne", "prediction.variability.p_value",
	"prediction.model_peak_ne",
}

// requiredModelKeys are models.<variant>.test_bits_per_spike and .ci95 for the
// variants the select stage scored (all five when it gave none).
func requiredModelKeys(sum map[string]any) []string {
	var variants []string
	if m, ok := sum["models"].(map[string]any); ok {
		for _, v := range rnn.Variants {
			if _, ok := m[string(v)]; ok {
				variants = append(variants, string(v))
			}
		}
	}
	if len(variants) == 0 {
		for _, v := range rnn.Variants {
			variants = append(variants, string(v))
		}
	}
	var keys []string
	for _, v := range variants {
		keys = append(keys, "models."+v+".test_bits_per_spike", "models."+v+".ci95")
	}
	return keys
}

// buildSummary merges the upstream summaries, adds the NE control fit and the
// session's headline facts, and makes sure every required key exists (null when
// an upstream stage could not say). Notes say what was missing.
func buildSummary(in *inputs) (map[string]any, []string) {
	sum := map[string]any{}
	var notes []string
	for _, s := range summaryStages {
		b, why := in.file(s, "summary.json")
		if b == nil {
			notes = append(notes, why)
			continue
		}
		var part map[string]any
		if err := json.Unmarshal(b, &part); err != nil {
			notes = append(notes, fmt.Sprintf("%s summary.json: %v", s, err))
			continue
		}
		for _, k := range sortedKeys(part) {
			if _, dup := sum[k]; dup {
				notes = append(notes, fmt.Sprintf("%s summary.json: top-level key %q already given by an earlier stage; kept the earlier", s, k))
				continue
			}
			sum[k] = part[k]
		}
	}
	ne, why := neSummary(in)
	if why != "" {
		notes = append(notes, why)
	}
	sum["ne"] = ne
	sess, sessNotes := sessionSummary(in)
	notes = append(notes, sessNotes...)
	sum["session"] = sess
	for _, k := range append(append([]string(nil), requiredKeys...), requiredModelKeys(sum)...) {
		if _, ok := lookup(sum, k); !ok {
			notes = append(notes, fmt.Sprintf("key %s missing upstream: written as null", k))
			setPath(sum, k, nil)
		}
	}
	return sum, notes
}

// neSummary is the "ne" part: the control fit of the photometry correction.
func neSummary(in *inputs) (map[string]any, string) {
	fit := map[string]any{"method": nil, "slope": nil, "intercept": nil}
	ne := map[string]any{"control_fit": fit}
	t, why := in.table("preprocess", "photometry_fit")
	if t == nil {
		return ne, why
	}
	c := cols(t, "preprocess output photometry_fit")
	method, slope, icpt := c.s("method"), c.f("slope"), c.f("intercept")
	if c.err != "" {
		return ne, c.err
	}
	fit["method"], fit["slope"], fit["intercept"] = method[0], slope[0], icpt[0]
	if t.Has("r") {
		ne["control_fit_r"] = c.f("r")[0]
	}
	if t.Has("bleaching") {
		ne["bleaching"] = c.s("bleaching")[0]
	}
	return ne, ""
}

// sessionSummary is the "session" part: id, duration, units and events.
func sessionSummary(in *inputs) (map[string]any, []string) {
	out := map[string]any{}
	var notes []string
	if t, why := in.table("session", "session"); t != nil {
		c := cols(t, "session output session")
		id, start, end := c.s("id"), c.f("start_s"), c.f("end_s")
		if c.err == "" {
			out["id"] = id[0]
			out["duration_s"] = end[0] - start[0]
		} else {
			notes = append(notes, c.err)
		}
	} else {
		notes = append(notes, why)
	}
	if t, why := in.table("preprocess", "units"); t != nil {
		c := cols(t, "preprocess output units")
		kept := c.b("kept")
		if c.err == "" {
			n := 0
			for _, k := range kept {
				if k {
					n++
				}
			}
			out["units_total"] = t.Len()
			out["units_kept"] = n
		} else {
			notes = append(notes, c.err)
		}
	} else {
		notes = append(notes, why)
	}
	if t, why := in.tableMaybeEmpty("session", "events"); t != nil {
		c := cols(t, "session output events")
		labels := c.s("label")
		if c.err == "" {
			count := map[string]int{}
			for _, l := range labels {
				count[l]++
			}
			byLabel := map[string]any{}
			for l, n := range count {
				byLabel[l] = n
			}
			out["events"] = t.Len()
			out["events_by_label"] = byLabel
		} else {
			notes = append(notes, c.err)
		}
	} else {
		notes = append(notes, why)
	}
	if t, _ := in.table("preprocess", "bins"); t != nil {
		c := cols(t, "preprocess output bins")
		ts := c.f("t_s")
		if c.err == "" && len(ts) > 1 {
			out["bin_ms"] = math.Round((ts[len(ts)-1]-ts[0])/float64(len(ts)-1)*1e9) / 1e6
		}
	}
	return out, notes
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// lookup follows a dotted path through nested objects.
func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// setPath sets a dotted path, creating objects on the way (a non-object in the way
// is replaced).
func setPath(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	cur := m
	for _, p := range parts[:len(parts)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	cur[parts[len(parts)-1]] = v
}

// encodeJSON writes v as indented JSON with object keys sorted, numbers in the
// shortest form that reads back to the same float64 (encoding/json's), NaN and
// infinities as null, and a final newline: the same value always gives the same
// bytes.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, v, ""); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, v any, indent string) error {
	const step = "  "
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool, string, int, int64:
		enc, err := json.Marshal(x)
		if err != nil {
			return err
		}
		b.Write(enc)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			b.WriteString("null")
			return nil
		}
		enc, err := json.Marshal(x)
		if err != nil {
			return err
		}
		b.Write(enc)
	case []float64:
		a := make([]any, len(x))
		for i, f := range x {
			a[i] = f
		}
		return writeJSON(b, a, indent)
	case []string:
		a := make([]any, len(x))
		for i, s := range x {
			a[i] = s
		}
		return writeJSON(b, a, indent)
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteString("[\n")
		for i, e := range x {
			b.WriteString(indent + step)
			if err := writeJSON(b, e, indent+step); err != nil {
				return err
			}
			if i < len(x)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	case map[string]any:
		if len(x) == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteString("{\n")
		keys := sortedKeys(x)
		for i, k := range keys {
			kb, _ := json.Marshal(k)
			b.WriteString(indent + step)
			b.Write(kb)
			b.WriteString(": ")
			if err := writeJSON(b, x[k], indent+step); err != nil {
				return err
			}
			if i < len(keys)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	default:
		return fmt.Errorf("unsupported JSON value of type %T", v)
	}
	return nil
}
