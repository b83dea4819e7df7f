package gmm_test

import (
	"fmt"
	"math/rand/v2"

	"nmdyn/stages/gmm"
)

// Two well-separated groups in the plane: BIC picks two components, and the
// clustering agrees perfectly with the groups.
func ExampleSelect() {
	rng := rand.New(rand.NewPCG(1, 1))
	var x []float64
	var groups []int
	for i := 0; i < 200; i++ {
		g := i % 2
		x = append(x, 10*float64(g)+rng.NormFloat64(), rng.NormFloat64())
		groups = append(groups, g)
	}
	sel, err := gmm.Select(x, 2, 4, &gmm.Settings{Seed: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println("components:", sel.K)
	fmt.Printf("ARI with the groups: %.2f\n", gmm.AdjustedRand(groups, sel.Best().Labels))
	// Output:
	// components: 2
	// ARI with the groups: 1.00
}
