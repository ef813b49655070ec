package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Stats summarises the samples of one side of a figure.
type Stats struct {
	N       int       `json:"n"`
	Median  float64   `json:"median"`
	Min     float64   `json:"min"`
	Max     float64   `json:"max"`
	Samples []float64 `json:"samples"`
}

// summarize returns nil for no samples.
func summarize(xs []float64) *Stats {
	if len(xs) == 0 {
		return nil
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return &Stats{N: len(s), Median: med, Min: s[0], Max: s[len(s)-1], Samples: xs}
}

// Figure is one row of the table: minilet's samples beside the floor's.
type Figure struct {
	Key     string `json:"key"`
	Work    string `json:"work"`
	Unit    string `json:"unit"` // ms, s, MiB, %
	Minilet *Stats `json:"minilet,omitempty"`
	Floor   *Stats `json:"floor,omitempty"`
	// Ratio is minilet's median over the floor's.
	Ratio *float64 `json:"ratio,omitempty"`
	// FloorParts splits the floor's time into its steps, in order.
	FloorParts []Part `json:"floorParts,omitempty"`
	// Extra holds figure-specific numbers (restarted containers, probes run).
	Extra map[string]any `json:"extra,omitempty"`
	// Suffix is printed after minilet's figure (e.g. "restarted: 0").
	Suffix string `json:"suffix,omitempty"`
	Note   string `json:"note,omitempty"`
}

func newFigure(key, work, unit string, minilet, floor []float64) *Figure {
	f := &Figure{Key: key, Work: work, Unit: unit, Minilet: summarize(minilet), Floor: summarize(floor)}
	if f.Minilet != nil && f.Floor != nil && f.Floor.Median > 0 {
		r := f.Minilet.Median / f.Floor.Median
		f.Ratio = &r
	}
	return f
}

// Report is everything one run of the bench found; it is written as JSON.
type Report struct {
	Machine  Machine   `json:"machine"`
	Config   Config    `json:"config"`
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"`
	Figures  []*Figure `json:"figures"`
	Errors   []string  `json:"errors,omitempty"`
	Warnings []string  `json:"warnings,omitempty"`
}

// Config is the bench's settings, kept with the results.
type Config struct {
	Runs           int    `json:"runs"`
	Pods           int    `json:"pods"`
	Probes         bool   `json:"probes"`
	ProbeWindowSec int    `json:"probeWindowSeconds"`
	FloorLogs      string `json:"floorLogs"`
	LeanWith       string `json:"leanWith,omitempty"`
	Outside        string `json:"outside,omitempty"`
	DaemonEnv      string `json:"daemonEnv,omitempty"`
	DaemonArgs     string `json:"daemonArgs,omitempty"`
	MiniletVersion string `json:"miniletVersion"`
}

func (r *Report) add(f *Figure) { r.Figures = append(r.Figures, f) }

func (r *Report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// printTable prints the machine and the figures as a Markdown table.
func (r *Report) printTable(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "\nmachine: %d CPUs (%s), %s RAM, kernel %s, %s, runc %s, %s\n",
		m.CPUs, m.CPUModel, m.Memory, m.Kernel, m.Containerd, m.Runc, m.Go)
	if m.OtherLoad != "" {
		fmt.Fprintf(w, "other load: %s\n", m.OtherLoad)
	}
	env := ""
	if r.Config.DaemonEnv != "" {
		env = "; daemon environment: " + r.Config.DaemonEnv
	}
	if r.Config.DaemonArgs != "" {
		env += "; daemon flags: " + r.Config.DaemonArgs
	}
	fmt.Fprintf(w, "minilet %s; %d runs per figure; floor logs: %s%s\n\n", r.Config.MiniletVersion, r.Config.Runs, r.Config.FloorLogs, env)
	rows := [][]string{{"work", "minilet median (min–max)", "floor median (min–max)", "ratio"}}
	for _, f := range r.Figures {
		ml := fmtStats(f.Minilet, f.Unit)
		if f.Suffix != "" {
			ml += ", " + f.Suffix
		}
		fl := fmtStats(f.Floor, f.Unit)
		if len(f.FloorParts) > 0 {
			var parts []string
			for _, p := range f.FloorParts {
				if p.Stats != nil {
					parts = append(parts, fmt.Sprintf("%s %s", p.Name, fmtNum(p.Stats.Median)))
				}
			}
			fl += " (" + strings.Join(parts, ", ") + ")"
		}
		ratio := "—"
		if f.Ratio != nil {
			ratio = fmt.Sprintf("%.2f×", *f.Ratio)
		}
		rows = append(rows, []string{f.Work, ml, fl, ratio})
	}
	printRows(w, rows)
	for _, f := range r.Figures {
		if f.Note != "" {
			fmt.Fprintf(w, "- %s: %s\n", f.Work, f.Note)
		}
	}
	for _, e := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", e)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "ERROR: %s\n", e)
	}
}

func fmtStats(s *Stats, unit string) string {
	if s == nil {
		return "—"
	}
	if s.N == 1 {
		return fmt.Sprintf("%s %s", fmtNum(s.Median), unit)
	}
	return fmt.Sprintf("%s %s (%s–%s)", fmtNum(s.Median), unit, fmtNum(s.Min), fmtNum(s.Max))
}

// fmtNum prints three significant digits or whole numbers, as the issue's
// table does.
func fmtNum(x float64) string {
	if x >= 100 || x <= -100 || x == 0 {
		return fmt.Sprintf("%.0f", x)
	}
	if x < 0.001 && x > -0.001 {
		return fmt.Sprintf("%.4f", x)
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

// Part is one step of the floor, e.g. the pause container's create+start.
type Part struct {
	Name  string `json:"name"`
	Stats *Stats `json:"stats"`
}

// ms converts a duration to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
