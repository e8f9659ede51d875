package main

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/lsdvr/lsdvr/internal/client"
	"github.com/lsdvr/lsdvr/internal/dvr"
)

func newVODCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vod",
		Short: "List, protect and delete recordings",
	}
	cmd.AddCommand(newVODListCmd(g), newVODRmCmd(g), newVODProtectCmd(g))
	return cmd
}

func newVODListCmd(g *globals) *cobra.Command {
	var (
		channel string
		p       client.ListVODsParams
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Print recordings, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if channel != "" {
				ch, err := resolveChannel(cmd.Context(), c, channel)
				if err != nil {
					return err
				}
				p.ChannelID = ch.ID
			}
			page, err := c.ListVODs(cmd.Context(), p)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if g.json {
				return printJSON(out, page)
			}
			if len(page.Items) == 0 {
				_, err := fmt.Fprintln(out, "no recordings")
				return err
			}
			if err := writeVODTable(out, page.Items, time.Local); err != nil {
				return err
			}
			if page.NextCursor != "" {
				_, err = fmt.Fprintf(cmd.ErrOrStderr(), "more recordings: add --cursor %s\n", page.NextCursor)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&channel, "channel", "", "only this channel (name or id)")
	f.IntVar(&p.Limit, "limit", 0, "at most this many recordings, 1..500 (default 50)")
	f.StringVar(&p.Cursor, "cursor", "", "continue after the previous page (printed when there is more)")
	return cmd
}

func newVODRmCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rm ID",
		Short: "Delete a recording and its files",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, id, err := clientAndVODID(g, args[0])
			if err != nil {
				return err
			}
			if err := c.DeleteVOD(cmd.Context(), id); err != nil {
				return err
			}
			return printResult(g, cmd.OutOrStdout(), map[string]any{"id": id, "deleted": true}, "deleted vod %d\n", id)
		},
	}
}

func newVODProtectCmd(g *globals) *cobra.Command {
	var off bool
	cmd := &cobra.Command{
		Use:   "protect ID",
		Short: "Protect a recording from retention (--off: lift the protection)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, id, err := clientAndVODID(g, args[0])
			if err != nil {
				return err
			}
			v, err := c.SetVODProtected(cmd.Context(), id, !off)
			if err != nil {
				return err
			}
			state := "protected"
			if !v.Protected {
				state = "no longer protected"
			}
			return printResult(g, cmd.OutOrStdout(), v, "vod %d (%s) is %s\n", v.ID, v.Basename, state)
		},
	}
	cmd.Flags().BoolVar(&off, "off", false, "lift the protection instead")
	return cmd
}

// clientAndVODID parses a VOD id argument, then connects, so that a bad id
// fails without a request.
func clientAndVODID(g *globals, arg string) (*client.Client, int64, error) {
	id, err := parseVODID(arg)
	if err != nil {
		return nil, 0, err
	}
	c, err := g.client()
	return c, id, err
}

func parseVODID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("vod id must be a positive number, got %q", s)
	}
	return id, nil
}

// writeVODTable prints VODs as an aligned table with times in loc.
func writeVODTable(w io.Writer, vods []dvr.VOD, loc *time.Location) error {
	tw := newTable(w, "ID", "CHANNEL", "BASENAME", "STATUS", "STARTED", "DURATION", "SIZE", "CHAPTERS", "PROTECTED")
	for _, v := range vods {
		protected := "-"
		if v.Protected {
			protected = "yes"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", v.ID, v.ChannelName, v.Basename, v.Status,
			v.StartedAt.In(loc).Format("2006-01-02 15:04"), durationCell(v.DurationSec), sizeCell(v.SizeBytes),
			len(v.Chapters), protected)
	}
	return tw.Flush()
}

// durationCell is "1h02m03s", or "-" when unknown.
func durationCell(sec float64) string {
	if sec <= 0 {
		return "-"
	}
	return time.Duration(sec * float64(time.Second)).Round(time.Second).String()
}

// sizeCell is the size in decimal units ("1.5 GB"), or "-" when unknown.
func sizeCell(n int64) string {
	if n <= 0 {
		return "-"
	}
	units := []string{"B", "kB", "MB", "GB", "TB"}
	f, i := float64(n), 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}
