package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// printResult prints v as JSON with --json, and otherwise the line(s) that
// format and args make.
func printResult(g *globals, w io.Writer, v any, format string, args ...any) error {
	if g.json {
		return printJSON(w, v)
	}
	_, err := fmt.Fprintf(w, format, args...)
	return err
}

// printList prints items as a JSON array with --json (an empty one, never
// null, when there are none); otherwise it prints the empty line when there
// are none, and else calls table.
func printList[T any](g *globals, w io.Writer, items []T, empty string, table func() error) error {
	if g.json {
		if items == nil {
			items = []T{}
		}
		return printJSON(w, items)
	}
	if len(items) == 0 {
		_, err := fmt.Fprintln(w, empty)
		return err
	}
	return table()
}

// newTable starts an aligned table on w with a row of headers. Callers add
// tab-separated rows ending in a newline, then call Flush, which writes the
// table out and returns the first write error.
func newTable(w io.Writer, headers ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	return tw
}
