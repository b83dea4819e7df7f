//go:build !amd64

package rnn

const useVector = false

func expRowAVX2(dst, src []float64)  { panic("rnn: no vector exp on this architecture") }
func tanhRowAVX2(dst, src []float64) { panic("rnn: no vector tanh on this architecture") }
