package figures

import (
	"fmt"
	"image/color"
	"runtime/debug"
	"strings"

	"gonum.org/v1/plot"

	"nmdyn/stages/plotting"
	"nmdyn/stages/rnn"
	"nmdyn/stages/task"
)

// Settings are the figures params (group figures); absent fields keep Defaults.
type Settings struct {
	// ExampleNeurons is how many neurons the fit-quality figure shows.
	ExampleNeurons int `yaml:"example_neurons"`
	// ExampleSpanS is the stretch of a test block they are shown over (s).
	ExampleSpanS float64 `yaml:"example_span_s"`
	// SmoothS is the standard deviation of the Gaussian kernel that smooths
	// observed and predicted rates alike in that figure (s).
	SmoothS float64 `yaml:"smooth_s"`
	// MaxTracePoints bounds the points of a time series over the whole recording
	// (block means beyond it): a poster needs no more, and SVGs stay small.
	MaxTracePoints int `yaml:"max_trace_points"`
}

// Defaults are the settings when pipeline.yaml says nothing.
func Defaults() Settings {
	return Settings{ExampleNeurons: 3, ExampleSpanS: 30, SmoothS: 0.25, MaxTracePoints: 1500}
}

func (s Settings) check() error {
	switch {
	case s.ExampleNeurons < 1 || s.ExampleNeurons > 6:
		return fmt.Errorf("figures.example_neurons = %d: want 1..6", s.ExampleNeurons)
	case !(s.ExampleSpanS > 0):
		return fmt.Errorf("figures.example_span_s = %v: want > 0", s.ExampleSpanS)
	case !(s.SmoothS >= 0):
		return fmt.Errorf("figures.smooth_s = %v: want >= 0", s.SmoothS)
	case s.MaxTracePoints < 10:
		return fmt.Errorf("figures.max_trace_points = %d: want >= 10", s.MaxTracePoints)
	}
	return nil
}

type params struct {
	Figures Settings `yaml:"figures"`
	// Fit is read for init_ema_s, which sets the initial state of the windows the
	// fit-quality figure runs the models over, as the fit stage did.
	Fit struct {
		InitEmaS float64 `yaml:"init_ema_s"`
	} `yaml:"fit"`
}

// figure is one figure of the study: its data, its drawing and its caption.
type figure struct {
	name    string // file stem: <name>.csv, <name>.png, <name>.svg
	title   string
	caption string // what it shows and how to read it
	data    *plotData
	fig     *plotting.Figure
	notes   []string // why parts of it are not available
}

// missing records why a panel cannot be drawn and returns the panel that says so.
func (f *figure) missing(title, why string) *plot.Plot {
	f.notes = append(f.notes, fmt.Sprintf("%s: not available: %s", title, why))
	return plotting.Note(title, plotting.Wrap("not available: "+why, 44))
}

// noNEEffect is the note of the NE-dependent figures when the selected model is
// the control variant: they still draw, flat in NE by construction.
func noNEEffect(in *inputs, f *figure) {
	if v, why := winnerVariant(in); why == "" && v == rnn.None {
		f.notes = append(f.notes, "The selected model is `none` (NE has no effect on it): its fixed points, "+
			"gains and predictions are the same at every NE level by construction.")
	}
}

// builder makes one figure from the inputs.
type builder struct {
	name  string
	build func(in *inputs, s Settings, emaS float64) *figure
}

// builders are the figures in the order of the page.
var builders = []builder{
	{"overview", buildOverview},
	{"fit_quality", buildFitQuality},
	{"model_selection", buildModelSelection},
	{"fixed_points", buildFixedPoints},
	{"meanfield", buildMeanfield},
	{"clustering", buildClustering},
	{"prediction", buildPrediction},
}

// output is a file written by the stage.
type output struct {
	name string
	data []byte
}

// Run is the figures stage.
func Run(ctx task.Context) error {
	p := params{Figures: Defaults()}
	p.Fit.InitEmaS = 0.25
	if err := ctx.Decode(&p); err != nil {
		return fmt.Errorf("figures params: %w", err)
	}
	if err := p.Figures.check(); err != nil {
		return err
	}
	in := loadInputs(ctx)
	for _, s := range upstream {
		if why, ok := in.why[s]; ok {
			ctx.Logf("figures: %s", why)
		}
	}
	var outs []output
	var figs []*figure
	for i, b := range builders {
		if err := ctx.Ctx().Err(); err != nil {
			return err
		}
		ctx.Progress(float64(i)/float64(len(builders)+1), b.name)
		f, files, err := renderFigure(b, in, p.Figures, p.Fit.InitEmaS)
		if err != nil {
			return err
		}
		for _, n := range f.notes {
			ctx.Logf("figures: %s: %s", f.name, n)
		}
		figs = append(figs, f)
		outs = append(outs, files...)
	}
	sum, sumNotes := buildSummary(in)
	for _, n := range sumNotes {
		ctx.Logf("figures: summary: %s", n)
	}
	sumJSON, err := encodeJSON(sum)
	if err != nil {
		return fmt.Errorf("figures: summary.json: %w", err)
	}
	outs = append(outs, output{"summary.json", sumJSON})
	page, err := renderIndex(figs, sum)
	if err != nil {
		return fmt.Errorf("figures: index.html: %w", err)
	}
	outs = append(outs, output{"index.html", page})
	outs = append(outs, output{ManifestName, manifest(outs)})
	for _, o := range outs {
		if err := ctx.WriteFile(o.name, o.data); err != nil {
			return err
		}
	}
	ctx.Progress(1, "done")
	return nil
}

// renderFigure builds and draws one figure: its table first, then PNG and SVG. A
// panic while building or drawing (a programming error met on unusual data) must
// not cost the study its other figures: the figure is replaced by one that says
// what failed, and the failure is logged.
func renderFigure(b builder, in *inputs, s Settings, emaS float64) (f *figure, files []output, err error) {
	f = safeBuild(b, in, s, emaS)
	csv, err := f.data.csv()
	if err != nil {
		return nil, nil, fmt.Errorf("figures: %s.csv: %w", f.name, err)
	}
	for r := range f.fig.Panels {
		for _, p := range f.fig.Panels[r] {
			if p != nil {
				plotting.UseSans(p)
				niceTicks(p)
				plotting.LegendInside(p, plotting.Translucent(color.White, 0.85))
			}
		}
	}
	png, svg, rerr := safeRender(f.fig)
	if rerr != nil {
		f = failedFigure(b.name, rerr.Error())
		if png, svg, err = f.fig.Render(); err != nil {
			return nil, nil, fmt.Errorf("figures: %s: %w", b.name, err)
		}
	}
	svg = plotting.SVGFontFamilies(svg)
	return f, []output{{f.name + ".csv", csv}, {f.name + ".png", png}, {f.name + ".svg", svg}}, nil
}

func safeBuild(b builder, in *inputs, s Settings, emaS float64) (f *figure) {
	defer func() {
		if r := recover(); r != nil {
			f = failedFigure(b.name, fmt.Sprintf("%v\n%s", r, firstFrames(debug.Stack())))
		}
	}()
	return b.build(in, s, emaS)
}

func safeRender(fig *plotting.Figure) (png, svg []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("drawing failed: %v", r)
		}
	}()
	return fig.Render()
}

// failedFigure says that a figure could not be made and why.
func failedFigure(name, why string) *figure {
	f := &figure{name: name, title: name, data: newPlotData(), fig: plotting.NewFigure(1, 1, 24, 10)}
	f.caption = "This figure could not be drawn; the reason is shown in it and in the stage log."
	line := strings.SplitN(why, "\n", 2)[0]
	f.notes = append(f.notes, "figure failed: "+line)
	f.fig.Panels[0][0] = plotting.Note(name, plotting.Wrap("not available: figure failed: "+line, 70))
	return f
}

// niceTicks replaces gonum's default ticks of linear axes by plotting.NiceTicks.
func niceTicks(p *plot.Plot) {
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		_, def := ax.Tick.Marker.(plot.DefaultTicks)
		_, lin := ax.Scale.(plot.LinearScale)
		if def && lin {
			ax.Tick.Marker = plotting.NiceTicks{}
		}
	}
}

// firstFrames keeps the start of a stack trace for the log.
func firstFrames(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	return strings.Join(lines[:min(len(lines), 12)], "\n")
}
