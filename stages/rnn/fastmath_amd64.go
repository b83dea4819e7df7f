package rnn

import "golang.org/x/sys/cpu"

// useVector selects the AVX2+FMA rows; NMDYN_NOVECTOR-free: tests flip it to check that
// both paths give the same bits.
var useVector = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// expRowAVX2 sets dst_i = expFast(src_i); len(dst) = len(src), a multiple of 4.
//
//go:noescape
func expRowAVX2(dst, src []float64)

// tanhRowAVX2 sets dst_i = tanhFast(src_i); len(dst) = len(src), a multiple of 4.
//
//go:noescape
func tanhRowAVX2(dst, src []float64)
