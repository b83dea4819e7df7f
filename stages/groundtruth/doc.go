// Package groundtruth generates sessions whose truth is known.
package groundtruth
