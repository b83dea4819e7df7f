package gmm

import (
	"fmt"
	"math"
)

// Covariance is a covariance model of the components.
type Covariance int

const (
	// Full gives every component its own full covariance.
	Full Covariance = iota
	// Tied gives all components one shared full covariance (clusters that differ
	// in location only; far fewer parameters when d is large against n).
	Tied
)

func (c Covariance) String() string {
	switch c {
	case Full:
		return "full"
	case Tied:
		return "tied"
	}
	return fmt.Sprintf("Covariance(%d)", int(c))
}

// NumParams is the number of free parameters of a k-component mixture in dimension
// d: k - 1 weights, k d means, and k d (d + 1) / 2 covariance entries (full) or
// d (d + 1) / 2 (tied).
func (c Covariance) NumParams(k, d int) int {
	if c == Tied {
		return k - 1 + k*d + d*(d+1)/2
	}
	return k - 1 + k*d + k*d*(d+1)/2
}

// BIC is the Bayesian information criterion -2 logLik + p log n of a k-component
// mixture fitted to n points in dimension d (smaller is better).
func (c Covariance) BIC(logLik float64, k, d, n int) float64 {
	return -2*logLik + float64(c.NumParams(k, d))*math.Log(float64(n))
}

// NumParams is Full.NumParams.
func NumParams(k, d int) int { return Full.NumParams(k, d) }

// BIC is Full.BIC.
func BIC(logLik float64, k, d, n int) float64 { return Full.BIC(logLik, k, d, n) }

// Selection is the outcome of Select.
type Selection struct {
	K    int       // the selected number of components
	Fits []*Result // Fits[k-1] is the k-component fit
	BIC  []float64 // BIC[k-1] of Fits[k-1]
}

// Best is the fit with the selected number of components.
func (s *Selection) Best() *Result { return s.Fits[s.K-1] }

// Select fits mixtures of 1..kmax components to the n points of x (row-major n x d)
// and picks the number with the smallest BIC (ties to fewer components). kmax is
// capped at n. Each k uses Settings as given (same seed: fits are reproducible one by
// one).
func Select(x []float64, d, kmax int, s *Settings) (*Selection, error) {
	n := checkShape(x, d)
	if kmax < 1 {
		return nil, fmt.Errorf("gmm: kmax %d < 1", kmax)
	}
	if kmax > n {
		kmax = n
	}
	sel := &Selection{K: 1}
	for k := 1; k <= kmax; k++ {
		fit, err := Fit(x, d, k, s)
		if err != nil {
			return nil, err
		}
		sel.Fits = append(sel.Fits, fit)
		sel.BIC = append(sel.BIC, s.withDefaults().Covariance.BIC(fit.LogLik, k, d, n))
		if sel.BIC[k-1] < sel.BIC[sel.K-1] {
			sel.K = k
		}
	}
	return sel, nil
}
