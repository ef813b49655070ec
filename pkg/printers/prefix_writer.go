package printers

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// Indent levels of describe output: two spaces each.
const (
	level0 = iota
	level1
	level2
	level3
)

// prefixWriter writes describe lines, indented by level, into a tabwriter
// that aligns the text after tabs. It keeps the first write error.
type prefixWriter struct {
	tw  *tabwriter.Writer
	err error
}

func newPrefixWriter(tw *tabwriter.Writer) *prefixWriter { return &prefixWriter{tw: tw} }

func (p *prefixWriter) write(level int, format string, args ...any) {
	if p.err != nil {
		return
	}
	_, p.err = fmt.Fprintf(p.tw, strings.Repeat("  ", level)+format, args...)
}

// flush ends the current alignment block, so that the next table aligns
// on its own.
func (p *prefixWriter) flush() {
	if p.err == nil {
		p.err = p.tw.Flush()
	}
}
