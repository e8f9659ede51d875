package config

import (
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with the configuration.
type Problem struct {
	// Key is the option concerned, possibly with an index ("notify.urls[1]"),
	// or the unknown key or variable as written.
	Key string
	// Source says where the value came from: "default", "file PATH",
	// "env LSDVR_X" or "request".
	Source string
	// Value is the offending value as shown to people; secrets are shown
	// as ********. Empty when there is no value to show.
	Value string
	// Message says what is wrong.
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Key)
	if p.Source != "" {
		fmt.Fprintf(&b, " (%s)", p.Source)
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	if p.Value != "" {
		fmt.Fprintf(&b, ", got %s", p.Value)
	}
	return b.String()
}

// ValidationError lists every problem found at once, in key order, so that
// a user can fix them all in one go.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	if len(lines) == 1 {
		return "invalid configuration: " + lines[0]
	}
	return "invalid configuration:\n  " + strings.Join(lines, "\n  ")
}

// Messages returns each problem as one line.
func (e *ValidationError) Messages() []string {
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.String()
	}
	return out
}

// problems accumulates Problems.
type problems []Problem

func (ps *problems) add(key, source, value, format string, args ...any) {
	*ps = append(*ps, Problem{Key: key, Source: source, Value: value, Message: fmt.Sprintf(format, args...)})
}

func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	sorted := slices.Clone(ps)
	slices.SortStableFunc(sorted, func(a, b Problem) int { return strings.Compare(a.Key, b.Key) })
	return &ValidationError{Problems: sorted}
}

// validate checks every option of s and the rules between them. source
// names where each key's value came from.
func validate(opts []Option, s *Settings, source func(key string) string) problems {
	var ps problems
	for i := range opts {
		o := &opts[i]
		if o.check == nil {
			continue
		}
		v := o.get(s)
		for _, msg := range o.check(v) {
			key := o.Key
			shown := o.display(v)
			if strings.HasPrefix(msg, "[") {
				// A list element: name its index and show only that element.
				idx, rest, _ := strings.Cut(msg, "] ")
				key += idx + "]"
				msg = rest
				shown = ""
			}
			ps.add(key, source(o.Key), shown, "%s", msg)
		}
	}
	for key, msg := range crossCheck(s) {
		o := find(opts, key)
		ps.add(key, source(key), o.display(o.get(s)), "%s", msg)
	}
	return ps
}

func find(opts []Option, key string) *Option {
	for i := range opts {
		if opts[i].Key == key {
			return &opts[i]
		}
	}
	return nil
}
