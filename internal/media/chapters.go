package media

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Chapter is a titled span of a recording, for the chapter files. Build
// Title from whatever the VOD knows (title, category).
type Chapter struct {
	// Start is the offset of the chapter from the start of the recording.
	Start time.Duration `json:"start"`
	// Title is the chapter's name.
	Title string `json:"title"`
}

// span is a chapter with its end resolved.
type span struct {
	start, end time.Duration
	title      string
}

// spans sorts chapters by start and resolves each end as the next start,
// or total for the last one. Chapters starting at or after total are
// dropped when total is known (> 0); with total unknown the last chapter
// ends where it starts. A chapter starting before 0 starts at 0.
func spans(chapters []Chapter, total time.Duration) []span {
	cs := slices.Clone(chapters)
	slices.SortStableFunc(cs, func(a, b Chapter) int { return cmp.Compare(a.Start, b.Start) })
	out := make([]span, 0, len(cs))
	for i, c := range cs {
		start := max(c.Start, 0)
		if total > 0 && start >= total {
			break
		}
		end := total
		if i+1 < len(cs) {
			end = max(cs[i+1].Start, start)
			if total > 0 {
				end = min(end, total)
			}
		}
		end = max(end, start)
		out = append(out, span{start: start, end: end, title: c.Title})
	}
	return out
}

// FFMetadata returns an FFMETADATA1 document holding the chapters, for
// RemuxOptions.Chapters. Times are in milliseconds (TIMEBASE=1/1000); each
// chapter ends where the next starts, the last at total. Titles are
// escaped as the format requires ('=', ';', '#', '\' and newlines get a
// backslash).
func FFMetadata(chapters []Chapter, total time.Duration) string {
	var b strings.Builder
	b.WriteString(";FFMETADATA1\n")
	for _, s := range spans(chapters, total) {
		fmt.Fprintf(&b, "\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=%d\nEND=%d\ntitle=%s\n",
			s.start.Milliseconds(), s.end.Milliseconds(), escapeFFMetadata(s.title))
	}
	return b.String()
}

func escapeFFMetadata(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '=', ';', '#', '\\', '\n':
			b.WriteByte('\\')
		case '\r':
			continue // a CR would end up in the title as a stray byte
		}
		b.WriteRune(r)
	}
	return b.String()
}

// WebVTTChapters returns a WebVTT chapters track (for a <track
// kind="chapters">): one numbered cue per chapter with its title as text.
// Titles are made safe for cue text: '&', '<', '>' become entities (so
// "-->" cannot end a cue early), newlines become spaces, and an empty
// title becomes "-".
func WebVTTChapters(chapters []Chapter, total time.Duration) string {
	var b strings.Builder
	b.WriteString("WEBVTT\n")
	for i, s := range spans(chapters, total) {
		fmt.Fprintf(&b, "\n%d\n%s --> %s\n%s\n", i+1, vttTime(s.start), vttTime(s.end), escapeVTT(s.title))
	}
	return b.String()
}

func vttTime(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3_600_000, ms/60_000%60, ms/1000%60, ms%1000)
}

func escapeVTT(s string) string {
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	// An entity-escaped "-->" is already "--&gt;"; nothing else can end a cue.
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// LosslessCutCSV returns the chapters as LosslessCut segments: one
// "start,end,label" line per chapter, times in seconds with millisecond
// precision, labels quoted as CSV requires.
func LosslessCutCSV(chapters []Chapter, total time.Duration) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	for _, s := range spans(chapters, total) {
		label := strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s.title)
		_ = w.Write([]string{csvSeconds(s.start), csvSeconds(s.end), label})
	}
	w.Flush()
	return b.String()
}

func csvSeconds(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Milliseconds())/1000, 'f', 3, 64)
}
