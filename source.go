// Package nmdyn is the module root. It embeds the module's own Go source so that
// the pipeline engine can tell, at run time, which stages a code change affects:
// a stage's code identity is a hash of the source of the package defining it and
// of every in-module package it imports, with the versions of the external
// modules they import (see dag.CodeIndex).
package nmdyn

import "embed"

// Source holds go.mod and the source of the packages under stages/ (assembly
// included; _test.go files are embedded by the patterns but ignored by the code
// identity). The engine (dag/, cache/) and the CLI (cmd/) are not part of any
// stage's identity: a change there that alters what a task computes must bump
// the key schema (cache.KeySchema).
//
// Every pattern must match at least one file (go:embed refuses otherwise): add a
// deeper pattern when packages appear deeper under stages/, and drop one whose
// last file goes.
//
//go:embed go.mod stages/*/*.go stages/*/*.s stages/*/*/*.go stages/*/*/*/*.go
var Source embed.FS

// Version is nmdyn's version, recorded in every task's provenance.
const Version = "0.1.0-dev"
