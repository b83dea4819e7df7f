package dag

import (
	"strings"
	"testing"
)

// A misspelt key in a stage's own param group is an error naming it; keys of other
// groups the stage reads in part are not checked.
func TestCheckOwnGroup(t *testing.T) {
	type dst struct {
		Fit struct {
			Epochs int `yaml:"epochs"`
			Opt    struct {
				LR float64 `yaml:"lr"`
			} `yaml:"opt"`
		} `yaml:"fit"`
		Other struct {
			A int `yaml:"a"`
		} `yaml:"other"`
	}
	cases := []struct {
		params string
		bad    string // substring of the error, "" for none
	}{
		{"fit: {epochs: 3, opt: {lr: 0.1}}\nother: {a: 1, b: 2}\n", ""},
		{"fit: {epoch: 3}\n", "fit.epoch"},
		{"fit: {epochs: 3, opt: {rate: 0.1}}\n", "fit.opt.rate"},
	}
	for _, c := range cases {
		var d dst
		err := checkOwnGroup(c.params, "fit", &d)
		switch {
		case c.bad == "" && err != nil:
			t.Errorf("%q: unexpected error %v", c.params, err)
		case c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad)):
			t.Errorf("%q: err = %v, want it to name %s", c.params, err, c.bad)
		}
	}
}
