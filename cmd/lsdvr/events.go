package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/lsdvr/lsdvr/internal/client"
	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
)

func newEventsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Follow or list the event log",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newEventsTailCmd(g), newEventsListCmd(g))
	return cmd
}

func newEventsTailCmd(g *globals) *cobra.Command {
	var (
		after   int64
		actions []string
	)
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Print events as they happen; reconnects without missing any",
		Long: `Print events as they happen, one line each (--json: the raw envelope per line).
When the connection drops, tail reconnects with the last seq it saw, so no event
is missed or repeated. Connection notices go to stderr. Stop with Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateActions(actions); err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			return c.TailEvents(cmd.Context(), client.TailParams{
				After:   after,
				Actions: actions,
				OnConnect: func(c event.Connected) {
					fmt.Fprintf(errOut, "connected to lsdvr %s (last seq #%d)\n", c.Version, c.LastSeq)
				},
				OnDisconnect: func(err error, retryIn time.Duration) {
					fmt.Fprintf(errOut, "disconnected: %v; reconnecting in %s\n", err, retryIn.Round(time.Millisecond))
				},
			}, func(env event.Envelope, raw []byte) error {
				return printEvent(out, env, raw, g.json)
			})
		},
	}
	cmd.Flags().Int64Var(&after, "after", -1, "replay events after this seq first (default: only new events)")
	cmd.Flags().StringSliceVar(&actions, "action", nil, "only these actions (repeatable or comma-separated)")
	return cmd
}

func newEventsListCmd(g *globals) *cobra.Command {
	var p client.ListEventsParams
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Print the event log, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validateActions(p.Actions); err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			page, err := c.ListEvents(cmd.Context(), p)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if g.json {
				return printJSON(out, page)
			}
			for _, raw := range page.Items {
				var env event.Envelope
				if err := json.Unmarshal(raw, &env); err != nil {
					return fmt.Errorf("decode event: %w", err)
				}
				if err := printEvent(out, env, raw, false); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&p.After, "after", 0, "only events after this seq")
	cmd.Flags().IntVar(&p.Limit, "limit", 100, "at most this many events (1..1000)")
	cmd.Flags().StringSliceVar(&p.Actions, "action", nil, "only these actions (repeatable or comma-separated)")
	return cmd
}

// validateActions rejects names outside the catalogue before any request.
func validateActions(actions []string) error {
	for _, a := range actions {
		if !event.Action(a).Valid() {
			return dvr.Errorf(dvr.EINVALID, "unknown action %q", a)
		}
	}
	return nil
}

// printEvent writes one event: its raw envelope with asJSON, else a line.
func printEvent(w io.Writer, env event.Envelope, raw []byte, asJSON bool) error {
	var err error
	if asJSON {
		_, err = fmt.Fprintf(w, "%s\n", raw)
	} else {
		_, err = fmt.Fprintln(w, formatEvent(env, time.Local))
	}
	return err
}

// formatEvent renders an event as one line: local time, seq, action and a
// summary of its data, e.g.
//
//	2026-12-04 19:20:00.123  #1234  end_capture      demo/demo_2026-12-04 success=true
func formatEvent(env event.Envelope, loc *time.Location) string {
	ts := env.Timestamp
	if t, err := time.Parse(time.RFC3339Nano, env.Timestamp); err == nil {
		ts = t.In(loc).Format("2006-01-02 15:04:05.000")
	}
	line := fmt.Sprintf("%s  #%d  %-15s", ts, env.Seq, env.Action)
	if s := summarize(env.Action, env.Data); s != "" {
		line += "  " + s
	}
	return strings.TrimRight(line, " ")
}

// maxSummary bounds a summary, in characters, so lines stay readable.
const maxSummary = 160

// summarize says in a few words what an event's data is about. Unknown
// actions and undecodable data fall back to the compact JSON.
func summarize(action event.Action, data json.RawMessage) string {
	s, ok := summarizeKnown(action, data)
	if !ok {
		s = compactJSON(data)
	}
	return truncate(s, maxSummary)
}

func summarizeKnown(action event.Action, data json.RawMessage) (string, bool) {
	switch action {
	case event.ActionInit:
		var d event.Init
		return decodeThen(data, &d, func() string {
			return kv("version", d.Version, "instance", d.Instance)
		})
	case event.ActionConnected:
		var d event.Connected
		return decodeThen(data, &d, func() string {
			return kv("client", d.ClientID, "version", d.Version, "last_seq", strconv.FormatInt(d.LastSeq, 10))
		})
	case event.ActionStartDownload, event.ActionStartCapture, event.ActionStartConvert,
		event.ActionEndDownload, event.ActionVODUpdated:
		var d event.VODData
		return decodeThen(data, &d, func() string {
			return join(vodLabel(d.VOD), kv("status", d.VOD.Status))
		})
	case event.ActionEndCapture, event.ActionEndConvert:
		var d event.Outcome
		return decodeThen(data, &d, func() string {
			return join(vodLabel(d.VOD), "success="+strconv.FormatBool(d.Success), kv("reason", d.Reason))
		})
	case event.ActionChapterUpdate:
		var d event.ChapterUpdate
		return decodeThen(data, &d, func() string {
			return join(vodLabel(d.VOD), kv("title", d.Chapter.Title, "category", d.Chapter.Category))
		})
	case event.ActionVODRemoved:
		var d event.VODRemoved
		return decodeThen(data, &d, func() string {
			return join(d.Channel+"/"+d.Basename, kv("reason", d.Reason))
		})
	case event.ActionChannelUpdated:
		var d event.ChannelUpdated
		return decodeThen(data, &d, func() string {
			return join(d.Channel.Name, "live="+strconv.FormatBool(d.Channel.IsLive), kv("title", d.Channel.Title))
		})
	case event.ActionChatDownload:
		var d event.ChatDownload
		return decodeThen(data, &d, func() string {
			return join(vodLabel(d.VOD), "success="+strconv.FormatBool(d.Success), kv("path", d.Path))
		})
	case event.ActionVODDownload:
		var d event.VODDownload
		return decodeThen(data, &d, func() string {
			what := d.URL
			if d.VOD != nil {
				what = vodLabel(*d.VOD)
			}
			return join(what, "success="+strconv.FormatBool(d.Success), kv("path", d.Path))
		})
	case event.ActionVideoDownload:
		var d event.VideoDownload
		return decodeThen(data, &d, func() string {
			return join(d.URL, "success="+strconv.FormatBool(d.Success), kv("path", d.Path, "reason", d.Reason))
		})
	case event.ActionJobSave, event.ActionJobUpdate, event.ActionJobClear:
		var d event.JobSave
		return decodeThen(data, &d, func() string {
			return join(d.JobName, kv("state", d.Job.State, "error", d.Job.Error))
		})
	case event.ActionJobProgress:
		var d event.JobProgress
		return decodeThen(data, &d, func() string {
			return join(d.JobName, strconv.FormatFloat(d.Progress*100, 'f', 1, 64)+"%", d.Text)
		})
	case event.ActionConfigSave:
		var d event.ConfigSave
		return decodeThen(data, &d, func() string {
			return "changed=" + strings.Join(d.Changed, ",")
		})
	case event.ActionNotify:
		var d event.Notify
		return decodeThen(data, &d, func() string {
			s := "[" + d.Category + "] " + d.Title
			if d.Body != "" {
				s += ": " + d.Body
			}
			return s
		})
	case event.ActionAlert:
		var d event.Alert
		return decodeThen(data, &d, func() string { return strings.ToUpper(d.Level) + " " + d.Text })
	case event.ActionLog:
		var d event.Log
		return decodeThen(data, &d, func() string {
			if d.Module != "" {
				return join(d.Level, d.Module+": "+d.Message)
			}
			return join(d.Level, d.Message)
		})
	}
	return "", false
}

// decodeThen decodes data into v and, if that worked, returns f's summary
// with every newline flattened so an event stays on one line.
func decodeThen(data json.RawMessage, v any, f func() string) (string, bool) {
	if err := json.Unmarshal(data, v); err != nil {
		return "", false
	}
	return strings.Join(strings.Fields(f()), " "), true
}

func vodLabel(v dvr.VOD) string {
	switch {
	case v.ChannelName != "" && v.Basename != "":
		return v.ChannelName + "/" + v.Basename
	case v.Basename != "":
		return v.Basename
	default:
		return "vod#" + strconv.FormatInt(v.ID, 10)
	}
}

// kv renders key=value pairs, skipping empty values and quoting values
// with spaces.
func kv(pairs ...string) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		k, v := pairs[i], pairs[i+1]
		if v == "" {
			continue
		}
		if strings.ContainsAny(v, " \t\"=") {
			v = strconv.Quote(v)
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, " ")
}

// join joins the non-empty parts with spaces.
func join(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

func compactJSON(data json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		return strings.Join(strings.Fields(string(data)), " ")
	}
	if s := b.String(); s != "null" && s != "{}" {
		return s
	}
	return ""
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
