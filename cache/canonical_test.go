package cache

import (
	"math"
	"testing"
)

func TestCanonical(t *testing.T) {
	tenth := 0.1 // a variable: the constant 0.1 + 0.2 is folded exactly to 0.3
	for _, c := range []struct {
		v    any
		want string
	}{
		{nil, "null"},
		{true, "true"},
		{int64(50), "50"},
		{50.0, "50"}, // integral floats are written as the integer they equal
		{-0.0, "0"},
		{math.Copysign(0, -1), "0"},
		{tenth + 0.2, "0.30000000000000004"}, // shortest round trip, not rounded
		{1e20, "100000000000000000000"},
		{1e21, "1e+21"},
		{1e-7, "1e-07"},
		{math.NaN(), "NaN"},
		{math.Inf(-1), "-Inf"},
		{"1", `"1"`},
		{[]any{int64(1), "a", 2.5}, `[1,"a",2.5]`},
		{map[string]any{"b": int64(1), "a": map[string]any{"d": false, "c": nil}}, `{"a":{"c":null,"d":false},"b":1}`},
		{[]string{"x", "y"}, `["x","y"]`},                 // other static types through reflection
		{map[string]int{"z": 1, "y": 2}, `{"y":2,"z":1}`}, // idem
	} {
		got, err := Canonical(c.v)
		if err != nil {
			t.Errorf("Canonical(%#v): %v", c.v, err)
			continue
		}
		if got != c.want {
			t.Errorf("Canonical(%#v) = %s, want %s", c.v, got, c.want)
		}
	}
	if _, err := Canonical(struct{}{}); err == nil {
		t.Error("Canonical(struct{}{}): no error")
	}
	if _, err := Canonical(map[int]int{1: 1}); err == nil {
		t.Error("Canonical(map[int]int): no error")
	}
}

func TestKeyComponents(t *testing.T) {
	base := Components{Schema: KeySchema, Stage: "fit", Item: `{"seed":1}`, Code: "c1", Params: `{"fit":{"epochs":200}}`,
		Upstream: []Upstream{{Stage: "preprocess", Item: "{}", Key: "k1"}},
		Files:    []FileHash{{Param: "data.session", Path: "/x", Hash: "h1"}}}
	k0 := base.Key()
	if k0 != base.Key() || len(k0) != 64 {
		t.Fatalf("key %q not stable or not a sha256", k0)
	}
	// Every component changes the key, and Changed names it.
	for _, c := range []struct {
		edit func(*Components)
		want string
	}{
		{func(c *Components) { c.Params = `{"fit":{"epochs":50}}` }, ReasonParams},
		{func(c *Components) { c.Code = "c2" }, ReasonCode},
		{func(c *Components) { c.Files = []FileHash{{Param: "data.session", Path: "/x", Hash: "h2"}} }, ReasonInput},
		{func(c *Components) { c.Upstream = []Upstream{{Stage: "preprocess", Item: "{}", Key: "k2"}} }, ReasonUpstream},
		{func(c *Components) { c.Schema = "nmdyn-key-v0" }, ReasonSchema},
	} {
		e := base
		c.edit(&e)
		if e.Key() == k0 {
			t.Errorf("%s: key unchanged", c.want)
		}
		if got := e.Changed(&base); len(got) != 1 || got[0] != c.want {
			t.Errorf("%s: Changed = %v", c.want, got)
		}
	}
	// The path of a file is not part of the key (only its content is).
	e := base
	e.Files = []FileHash{{Param: "data.session", Path: "/moved", Hash: "h1"}}
	if e.Key() != k0 {
		t.Error("moving an input file with the same content changed the key")
	}
	// Length prefixes: moving text between fields changes the key.
	a := Components{Stage: "ab", Item: "c"}
	b := Components{Stage: "a", Item: "bc"}
	if a.Key() == b.Key() {
		t.Error("field boundaries are ambiguous")
	}
}
