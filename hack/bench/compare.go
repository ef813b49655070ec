package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// compareReports prints the figures of two JSON results side by side:
// minilet's medians and ratios in the old and the new run. It needs no
// root and runs nothing.
func compareReports(w io.Writer, oldPath, newPath string) error {
	load := func(p string) (*Report, error) {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		r := &Report{}
		if err := json.Unmarshal(b, r); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return r, nil
	}
	a, err := load(oldPath)
	if err != nil {
		return err
	}
	b, err := load(newPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "old: %s (minilet %s, %s)\nnew: %s (minilet %s, %s)\n\n",
		oldPath, a.Config.MiniletVersion, a.Started.Format("2006-01-02 15:04"),
		newPath, b.Config.MiniletVersion, b.Started.Format("2006-01-02 15:04"))
	old := map[string]*Figure{}
	for _, f := range a.Figures {
		old[f.Key] = f
	}
	rows := [][]string{{"work", "old minilet", "new minilet", "change", "old ratio", "new ratio"}}
	for _, f := range b.Figures {
		o := old[f.Key]
		row := []string{f.Work, "—", medianOf(f.Minilet, f.Unit), "—", "—", ratioOf(f.Ratio)}
		if o != nil {
			row[1], row[4] = medianOf(o.Minilet, o.Unit), ratioOf(o.Ratio)
			if o.Minilet != nil && f.Minilet != nil && o.Minilet.Median != 0 {
				row[3] = fmt.Sprintf("%+.0f%%", 100*(f.Minilet.Median/o.Minilet.Median-1))
			}
		}
		rows = append(rows, row)
	}
	printRows(w, rows)
	return nil
}

func medianOf(s *Stats, unit string) string {
	if s == nil {
		return "—"
	}
	return fmtNum(s.Median) + " " + unit
}

func ratioOf(r *float64) string {
	if r == nil {
		return "—"
	}
	return fmt.Sprintf("%.2f×", *r)
}

// printRows prints rows as a Markdown table; the first row is the header.
func printRows(w io.Writer, rows [][]string) {
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	line := func(row []string) {
		fmt.Fprint(w, "|")
		for i, c := range row {
			fmt.Fprintf(w, " %s%s |", c, strings.Repeat(" ", widths[i]-len([]rune(c))))
		}
		fmt.Fprintln(w)
	}
	line(rows[0])
	sep := make([]string, len(widths))
	for i := range sep {
		sep[i] = strings.Repeat("-", widths[i])
	}
	line(sep)
	for _, row := range rows[1:] {
		line(row)
	}
}
