package preprocess

import (
	"fmt"
	"math"

	"nmdyn/stages/table"
)

// blocks is the division of the bins into split blocks and bootstrap sub-blocks.
type blocks struct {
	// per block
	first, count []int // first bin and number of bins
	neMean       []float64
	split        []string
	start, end   []float64
	// per bin
	binBlock, binSub []int64
	binSplit         []string
}

// makeBlocks cuts the bins into consecutive blocks of round(blockS / binS) bins (a
// last block shorter than half of that joins the one before), assigns the blocks
// to splits by their mean NE (assignSplits), and cuts each block into sub-blocks
// of round(bootS / binS) bins, numbered across the recording, for the bootstrap
// (sub-blocks never straddle two blocks, so a sub-block lies in one split).
func makeBlocks(g binGrid, ne []float64, blockS, bootS float64, pattern [3]int) (*blocks, error) {
	per := max(1, int(math.Round(blockS/g.binS)))
	subPer := max(1, int(math.Round(bootS/g.binS)))
	bl := &blocks{}
	for lo := 0; lo < g.n; lo += per {
		n := min(per, g.n-lo)
		if len(bl.first) > 0 && 2*n < per {
			bl.count[len(bl.count)-1] += n
			continue
		}
		bl.first = append(bl.first, lo)
		bl.count = append(bl.count, n)
	}
	for i := range bl.first {
		var s float64
		for _, v := range ne[bl.first[i] : bl.first[i]+bl.count[i]] {
			s += v
		}
		bl.neMean = append(bl.neMean, s/float64(bl.count[i]))
		bl.start = append(bl.start, g.edge(bl.first[i]))
		bl.end = append(bl.end, g.edge(bl.first[i]+bl.count[i]))
	}
	var err error
	if bl.split, err = assignSplits(bl.neMean, pattern); err != nil {
		return nil, fmt.Errorf("preprocess.split: %v", err)
	}
	bl.binBlock = make([]int64, g.n)
	bl.binSub = make([]int64, g.n)
	bl.binSplit = make([]string, g.n)
	sub := int64(-1)
	for i := range bl.first {
		for j := 0; j < bl.count[i]; j++ {
			b := bl.first[i] + j
			if j%subPer == 0 {
				sub++
			}
			bl.binBlock[b] = int64(i)
			bl.binSub[b] = sub
			bl.binSplit[b] = bl.split[i]
		}
	}
	return bl, nil
}

func (bl *blocks) table() *table.Table {
	n := len(bl.first)
	ids, bins := make([]int64, n), make([]int64, n)
	for i := range ids {
		ids[i], bins[i] = int64(i), int64(bl.count[i])
	}
	return table.New().AddInt("block", ids).AddFloat("start_s", bl.start).AddFloat("end_s", bl.end).
		AddString("split", bl.split).AddFloat("ne_mean", bl.neMean).AddInt("bins", bins)
}
