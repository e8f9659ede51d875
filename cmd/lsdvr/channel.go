package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lsdvr/lsdvr/internal/client"
	"github.com/lsdvr/lsdvr/internal/dvr"
)

func newChannelCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "channel",
		Short: "Add, list and remove watched channels",
	}
	cmd.AddCommand(newChannelAddCmd(g), newChannelListCmd(g), newChannelRmCmd(g), newChannelRecordCmd(g))
	return cmd
}

func newChannelAddCmd(g *globals) *cobra.Command {
	var (
		in       client.ChannelInput
		interval time.Duration
	)
	cmd := &cobra.Command{
		Use:   "add URL --name NAME",
		Short: "Watch a stream URL and record it whenever it is live",
		Example: `  lsdvr channel add https://example.com/live/index.m3u8 --name demo
  lsdvr channel add https://example.com/live --name demo --quality 720p,best --interval 30s --keep-last 10`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.URL = args[0]
			if interval != 0 {
				if interval%time.Second != 0 || interval < 0 {
					return fmt.Errorf("--interval must be a whole number of seconds, got %s", interval)
				}
				in.PollIntervalSec = int(interval / time.Second)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			ch, err := c.CreateChannel(cmd.Context(), in)
			if err != nil {
				return err
			}
			return printResult(g, cmd.OutOrStdout(), ch, "added channel %s (id %d), checked every %ds\n", ch.Name, ch.ID, ch.PollIntervalSec)
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Name, "name", "", "short name: a-z, 0-9, '_', '-', '.'; also the storage folder (required)")
	f.StringVar(&in.Quality, "quality", "", "preferred quality, e.g. best or 720p,best (default best)")
	f.DurationVar(&interval, "interval", 0, "how often to check whether the channel is live, at least 15s (default 60s)")
	f.IntVar(&in.KeepLast, "keep-last", 0, "retention: keep only the newest N VODs (0: no limit)")
	f.Float64Var(&in.KeepGB, "keep-gb", 0, "retention: keep at most this many GB of VODs (0: no limit)")
	f.StringVar(&in.Backend, "backend", "", "capture tool: auto, streamlink or ffmpeg (default auto)")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func newChannelListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "Print every channel",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			channels, err := c.ListChannels(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			return printList(g, out, channels, "no channels; add one with: lsdvr channel add URL --name NAME",
				func() error { return writeChannelTable(out, channels) })
		},
	}
}

func newChannelRmCmd(g *globals) *cobra.Command {
	var deleteVODs bool
	cmd := &cobra.Command{
		Use:   "rm NAME|ID",
		Short: "Stop watching a channel and remove it (--delete-vods: and its recordings)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ch, err := clientAndChannel(cmd.Context(), g, args[0])
			if err != nil {
				return err
			}
			if err := c.DeleteChannel(cmd.Context(), ch.ID, deleteVODs); err != nil {
				return err
			}
			return printResult(g, cmd.OutOrStdout(), map[string]any{"id": ch.ID, "name": ch.Name, "deleted": true},
				"removed channel %s (id %d)\n", ch.Name, ch.ID)
		},
	}
	cmd.Flags().BoolVar(&deleteVODs, "delete-vods", false, "also delete the channel's VODs and their files")
	return cmd
}

func newChannelRecordCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "record NAME|ID",
		Short: "Check a channel now and record it if it is live",
		Long: `Check a channel now and record it if it is live, without waiting for the
next poll. The recording goes on in the server; follow it with lsdvr job list
or lsdvr events tail. Fails when the channel is offline or already recording.`,
		Example: "  lsdvr channel record demo",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ch, err := clientAndChannel(cmd.Context(), g, args[0])
			if err != nil {
				return err
			}
			v, err := c.RecordChannel(cmd.Context(), ch.ID)
			if err != nil {
				return err
			}
			return printResult(g, cmd.OutOrStdout(), v, "recording channel %s: vod %s (id %d)\n", ch.Name, v.Basename, v.ID)
		},
	}
}

// clientAndChannel connects and resolves ref with resolveChannel.
func clientAndChannel(ctx context.Context, g *globals, ref string) (*client.Client, dvr.Channel, error) {
	c, err := g.client()
	if err != nil {
		return nil, dvr.Channel{}, err
	}
	ch, err := resolveChannel(ctx, c, ref)
	return c, ch, err
}

// resolveChannel finds a channel by name first, then by id, so that a
// channel named "123" is still reachable by its name.
func resolveChannel(ctx context.Context, c *client.Client, ref string) (dvr.Channel, error) {
	channels, err := c.ListChannels(ctx)
	if err != nil {
		return dvr.Channel{}, err
	}
	for _, ch := range channels {
		if ch.Name == strings.ToLower(ref) {
			return ch, nil
		}
	}
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		for _, ch := range channels {
			if ch.ID == id {
				return ch, nil
			}
		}
	}
	return dvr.Channel{}, fmt.Errorf("no channel is named or numbered %q; see lsdvr channel list", ref)
}

// writeChannelTable prints channels as an aligned table.
func writeChannelTable(w io.Writer, channels []dvr.Channel) error {
	tw := newTable(w, "ID", "NAME", "STATUS", "QUALITY", "BACKEND", "INTERVAL", "RETENTION", "URL")
	for _, ch := range channels {
		status := "offline"
		switch {
		case !ch.Enabled:
			status = "disabled"
		case ch.IsLive:
			status = "live"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%ds\t%s\t%s\n", ch.ID, ch.Name, status, ch.Quality, ch.Backend,
			ch.PollIntervalSec, retentionCell(ch), ch.URL)
	}
	return tw.Flush()
}

// retentionCell is "last 10, 50 GB", "last 10", "50 GB" or "-".
func retentionCell(ch dvr.Channel) string {
	var parts []string
	if ch.KeepLast > 0 {
		parts = append(parts, fmt.Sprintf("last %d", ch.KeepLast))
	}
	if ch.KeepGB > 0 {
		parts = append(parts, strconv.FormatFloat(ch.KeepGB, 'f', -1, 64)+" GB")
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}
