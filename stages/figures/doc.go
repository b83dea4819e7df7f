// Package figures is the pipeline stage `figures`: it draws every figure of the
// study from the outputs of the stages before it, merges their summaries into the
// study's headline numbers, and writes one page that shows it all. The engine
// publishes its outputs into the project's figures/ directory.
//
// Inputs (pipeline.yaml): session, preprocess, fit (every variant x seed), select,
// fixedpoints, meanfield, cluster and predict; each figure reads the tables named in
// its file's comment. Params: group figures (Settings: example_neurons [3],
// example_span_s [30], smooth_s [0.25], max_trace_points [1500]) and fit.init_ema_s
// [0.25], which sets the windows' initial state when the fit-quality figure runs the
// selected networks over test windows exactly as the fit stage scored them.
//
// # Outputs
//
// For each figure <name> (overview, fit_quality, model_selection, fixed_points,
// meanfield, clustering, prediction):
//
//	<name>.csv   the plotted data as a tidy table (see plotData): one row per plotted
//	             point, with panel, series, x, y, y_lo, y_hi, dx, dy, z and what x, y
//	             and z are, with units; numbers rounded to 11 significant digits
//	<name>.png   150 dpi, for the page and slides
//	<name>.svg   the same drawing as vectors, for the poster
//
// Each figure is built in two steps: its builder first fills the tidy table from
// the upstream outputs, then draws only from that table, so the CSV is exactly what
// the figure shows. Colours come from package plotting (one per variant, per
// population or cluster, per regime) and every axis carries its unit.
//
// summary.json merges the summary.json of select (keys models, selection),
// fixedpoints (dynamics), meanfield (meanfield), cluster (clustering) and predict
// (prediction), and adds ne (control_fit {method, slope, intercept} from
// preprocess's photometry_fit, control_fit_r, bleaching) and session (id,
// duration_s, units_total, units_kept, events, events_by_label, bin_ms). Every key
// of DESIGN.md section 6 is present: one an upstream stage could not give is null,
// and the stage log says so. JSON with sorted keys, two-space indent, numbers as
// encoding/json writes them (shortest round-trip form), NaN and infinities as null.
//
// index.html is one self-contained page (inline CSS, no script, no external
// resource; html/template): header with the session id (no date: outputs must be
// reproducible), a table of headline numbers, and each figure as its PNG linking to
// its SVG, with a caption saying what it shows and how to read it, the "not
// available" notes of the figure, and a link to its table.
//
// MANIFEST lists `<sha256 hex>  <file name>` (sha256sum's format, so `sha256sum
// -c MANIFEST` works in figures/), sorted by name, for every figure table (.csv),
// every SVG and summary.json: the files `run verify` compares (tables within a
// relative tolerance, SVG bytes exactly). The PNGs and index.html are not listed:
// PNG anti-aliasing runs on floating point whose last bits may differ between CPU
// architectures (fused multiply-add), and both are drawn from files that are
// listed. ParseManifest reads the file back.
//
// # Missing data
//
// A real recording may lack events, a photometry control channel, a stable fixed
// point, or any table an analysis could not produce. A figure never fails for
// that: the panel that needs it is replaced by a note "not available: <why>", the
// note is repeated under the figure on the page and in the stage log, and the other
// panels draw. When the selected model is `none`, the NE-dependent figures (fixed
// points, mean field, prediction) still draw and say that their curves are flat in
// NE by construction. A builder that panics on unusual data is replaced by a figure that
// says it failed (and the log keeps the start of the stack), so one figure cannot
// cost the study the others. Bad params are an error.
//
// # Determinism and fonts
//
// Same inputs, same bytes: iteration follows sorted or table order (no map order
// reaches a drawing or a file), nothing depends on time or on the number of threads,
// and gonum/plot's SVG writer formats numbers with a fixed precision (checked by
// TestSVGDeterministic and TestDeterministic). The figures use the Liberation Sans
// face that gonum/plot ships; the PNGs are rasterised with it. The SVGs do not embed
// it (embedding adds about 550 kB per SVG, measured in TestSVGFonts); instead their
// font-family names the metric-compatible fallbacks (Arial, Helvetica), so a browser
// without the Liberation fonts keeps text at its size and place (a wider fallback
// such as DejaVu Sans, all a bare Linux box may have, makes legends a little wider
// than their backdrops). index.html shows the PNGs, which need no font at all.
package figures
