// Package mft is the mean-field theory of nmdyn's low-rank networks.
package mft
