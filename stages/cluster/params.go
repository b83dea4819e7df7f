package cluster

import (
	"fmt"

	"nmdyn/stages/dynamics"
)

// Params are the param groups the stage reads (pipeline.yaml `cluster` and
// `fixedpoints`), with their defaults in defaultParams.
type Params struct {
	Cluster struct {
		MaxClusters int      `yaml:"max_clusters"` // largest number of clusters tried
		Restarts    int      `yaml:"restarts"`     // EM restarts per fit
		Covariance  []string `yaml:"covariance"`   // covariance models competing in the BIC: full, tied
		Bootstrap   int      `yaml:"bootstrap"`    // resamples for stability (and as many null resamples)
		Networks    int      `yaml:"networks"`     // networks resampled from the mixture
		// NetworkNeurons is the size of each resampled network (0: as many as the
		// fitted network).
		NetworkNeurons int `yaml:"network_neurons"`
		// MomentMatched recolours each cluster's draws to the cluster's exact mean
		// and covariance (gmm.SampleMatched) instead of plain draws.
		MomentMatched bool   `yaml:"moment_matched"`
		Seed          uint64 `yaml:"seed"`
	} `yaml:"cluster"`
	Fixedpoints struct {
		Grid       int                 `yaml:"grid"`       // NE levels on [0, 1] when the fixedpoints input is absent
		Thresholds dynamics.Thresholds `yaml:"thresholds"` // the regime rule, as in stage fixedpoints
	} `yaml:"fixedpoints"`
}

func defaultParams() Params {
	var p Params
	p.Cluster.MaxClusters = 6
	p.Cluster.Restarts = 10
	p.Cluster.Covariance = []string{"full", "tied"}
	p.Cluster.Bootstrap = 100
	p.Cluster.Networks = 5
	p.Cluster.MomentMatched = true
	p.Cluster.Seed = 1
	p.Fixedpoints.Grid = 21
	p.Fixedpoints.Thresholds = dynamics.DefaultThresholds()
	return p
}

func (p *Params) check() error {
	c := p.Cluster
	switch {
	case c.MaxClusters < 1:
		return fmt.Errorf("cluster.max_clusters = %d, want >= 1", c.MaxClusters)
	case c.Restarts < 1:
		return fmt.Errorf("cluster.restarts = %d, want >= 1", c.Restarts)
	case c.Bootstrap < 0:
		return fmt.Errorf("cluster.bootstrap = %d, want >= 0", c.Bootstrap)
	case c.Networks < 0:
		return fmt.Errorf("cluster.networks = %d, want >= 0", c.Networks)
	case c.NetworkNeurons < 0:
		return fmt.Errorf("cluster.network_neurons = %d, want >= 0", c.NetworkNeurons)
	case p.Fixedpoints.Grid < 2:
		return fmt.Errorf("fixedpoints.grid = %d, want >= 2", p.Fixedpoints.Grid)
	}
	return p.Fixedpoints.Thresholds.Check()
}
