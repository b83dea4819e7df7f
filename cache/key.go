package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
)

// KeySchema is the version salt of the key schema. Changing how keys are computed
// (or what a stage's outputs mean to the engine) must change it, which makes every
// cached task stale at once: a visible migration rather than a silent mix.
const KeySchema = "nmdyn-key-v1"

// Components are everything a task key is computed from. Staleness is decided
// from them alone, before any data is read.
type Components struct {
	Schema string `json:"schema"` // KeySchema when computed
	Stage  string `json:"stage"`
	// Item is the canonical text of the fan-out item ("{}" without fan-out).
	Item string `json:"item"`
	// Code is the code identity of the Go package defining the stage.
	Code string `json:"code"`
	// Params is the canonical text of the params the stage reads.
	Params string `json:"params"`
	// Upstream are the keys of the tasks feeding this one, in a fixed order.
	Upstream []Upstream `json:"upstream,omitempty"`
	// Files are the content hashes of the external files and folders it reads.
	Files []FileHash `json:"files,omitempty"`
}

// Upstream is one upstream task in a key.
type Upstream struct {
	Stage string `json:"stage"`
	Item  string `json:"item"` // canonical
	Key   string `json:"key"`
}

// FileHash is one external input in a key: the param naming it, the path it
// resolved to (for messages; not part of the key) and its content hash.
type FileHash struct {
	Param string `json:"param"`
	Path  string `json:"path"`
	Hash  string `json:"hash"`
}

// Key returns the task key: the hex sha256 of a length-prefixed encoding of the
// components (so no two different component lists encode alike).
func (c *Components) Key() string {
	h := sha256.New()
	field := func(name, v string) { fmt.Fprintf(h, "%s %d:%s\n", name, len(v), v) }
	schema := c.Schema
	if schema == "" {
		schema = KeySchema
	}
	field("schema", schema)
	field("stage", c.Stage)
	field("item", c.Item)
	field("code", c.Code)
	field("params", c.Params)
	for _, u := range c.Upstream {
		field("upstream.stage", u.Stage)
		field("upstream.item", u.Item)
		field("upstream.key", u.Key)
	}
	for _, f := range c.Files {
		field("file.param", f.Param)
		field("file.hash", f.Hash)
	}
	return sum(h)
}

// Reasons of staleness, as `run status` prints them.
const (
	ReasonParams   = "params"
	ReasonCode     = "code"
	ReasonInput    = "input"
	ReasonUpstream = "upstream"
	ReasonMissing  = "missing"
	ReasonSchema   = "schema"
)

// Changed lists which components differ between a previous commit (old) and now
// (c): any of params, code, input, upstream, schema, in that order. Empty means the
// key is the same as far as the components tell.
func (c *Components) Changed(old *Components) []string {
	var out []string
	if c.Params != old.Params {
		out = append(out, ReasonParams)
	}
	if c.Code != old.Code {
		out = append(out, ReasonCode)
	}
	if !slices.EqualFunc(c.Files, old.Files, func(a, b FileHash) bool { return a.Param == b.Param && a.Hash == b.Hash }) {
		out = append(out, ReasonInput)
	}
	if !slices.Equal(c.Upstream, old.Upstream) {
		out = append(out, ReasonUpstream)
	}
	if c.Schema != old.Schema {
		out = append(out, ReasonSchema)
	}
	return out
}

func sum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// HashBytes is the hex sha256 of b: the name of an object holding b.
func HashBytes(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
