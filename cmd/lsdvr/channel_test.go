package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/record"
)

// libraryCLIBundle is the testBundle of the channel and vod subcommands: an
// API server over a real library.
type libraryCLIBundle struct {
	cliServer
	lib     *record.Library
	storage string
}

func setupLibraryCLI(t *testing.T) *libraryCLIBundle {
	t.Helper()
	db := openDB(t)
	storage := filepath.Join(t.TempDir(), "storage")
	lib := record.NewLibrary(db, event.NewBus(db, nil), storage, nil)
	url := serveAPI(t, api.NewChannels(lib), api.NewVODs(lib))
	return &libraryCLIBundle{cliServer: cliServer{url: url}, lib: lib, storage: storage}
}

func TestChannelCommands(t *testing.T) {
	t.Parallel()
	b := setupLibraryCLI(t)

	out, err := b.run(t, "channel", "add", "https://example.test/live.m3u8", "--name", "Demo",
		"--quality", "720p,best", "--interval", "30s", "--keep-last", "5", "--keep-gb", "50", "--backend", "ffmpeg")
	require.NoError(t, err)
	require.Regexp(t, `^added channel demo \(id \d+\), checked every 30s\n$`, out)

	out, err = b.run(t, "--json", "channel", "add", "http://127.0.0.1:9/x", "--name", "other")
	require.NoError(t, err)
	var other dvr.Channel
	require.NoError(t, json.Unmarshal([]byte(out), &other))
	require.Equal(t, "other", other.Name)
	require.Equal(t, 60, other.PollIntervalSec)

	out, err = b.run(t, "channel", "list")
	require.NoError(t, err)
	require.Regexp(t, `(?m)^ID\s+NAME\s+STATUS\s+QUALITY\s+BACKEND\s+INTERVAL\s+RETENTION\s+URL$`, out)
	require.Regexp(t, `(?m)^\d+\s+demo\s+offline\s+720p,best\s+ffmpeg\s+30s\s+last 5, 50 GB\s+https://example.test/live.m3u8$`, out)
	require.Regexp(t, `(?m)^\d+\s+other\s+offline\s+best\s+auto\s+60s\s+-\s+http://127.0.0.1:9/x$`, out)

	_, err = b.run(t, "channel", "add", "https://example.test/", "--name", "fast", "--interval", "5s")
	require.ErrorContains(t, err, "poll_interval_sec must be at least 15 seconds, got 5")
	_, err = b.run(t, "channel", "add", "https://example.test/")
	require.ErrorContains(t, err, `required flag(s) "name" not set`)
	_, err = b.run(t, "channel", "add", "https://example.test/", "--name", "x", "--interval", "1500ms")
	require.ErrorContains(t, err, "--interval must be a whole number of seconds")

	// rm by id; a channel with VODs needs --delete-vods.
	v, err := b.lib.CreateVOD(context.Background(), record.CreateVODParams{ChannelID: other.ID})
	require.NoError(t, err)
	status := record.StatusFinalized
	_, err = b.lib.UpdateVOD(context.Background(), v.ID, record.VODPatch{Status: &status})
	require.NoError(t, err)
	_, err = b.run(t, "channel", "rm", itoa(other.ID))
	require.ErrorContains(t, err, "delete them too with delete_vods=true")
	out, err = b.run(t, "channel", "rm", itoa(other.ID), "--delete-vods")
	require.NoError(t, err)
	require.Equal(t, "removed channel other (id "+itoa(other.ID)+")\n", out)

	out, err = b.run(t, "channel", "rm", "DEMO")
	require.NoError(t, err)
	require.Contains(t, out, "removed channel demo")
	_, err = b.run(t, "channel", "rm", "nope")
	require.ErrorContains(t, err, `no channel is named or numbered "nope"`)

	out, err = b.run(t, "channel", "list")
	require.NoError(t, err)
	require.Contains(t, out, "no channels")
	out, err = b.run(t, "--json", "channel", "list")
	require.NoError(t, err)
	require.JSONEq(t, `[]`, out)
}

func TestVODCommands(t *testing.T) {
	t.Parallel()
	b := setupLibraryCLI(t)
	ctx := context.Background()
	demo, err := b.lib.CreateChannel(ctx, record.ChannelParams{Name: "demo", URL: "https://a.test/"})
	require.NoError(t, err)
	other, err := b.lib.CreateChannel(ctx, record.ChannelParams{Name: "other", URL: "https://b.test/"})
	require.NoError(t, err)
	start := time.Date(2026, 12, 4, 19, 20, 0, 0, time.UTC)
	v, err := b.lib.CreateVOD(ctx, record.CreateVODParams{ChannelID: demo.ID, StartedAt: start})
	require.NoError(t, err)
	status, dur, size := record.StatusFinalized, 3723.0, int64(1_500_000_000)
	_, err = b.lib.UpdateVOD(ctx, v.ID, record.VODPatch{Status: &status, DurationSec: &dur, SizeBytes: &size})
	require.NoError(t, err)
	_, err = b.lib.CreateVOD(ctx, record.CreateVODParams{ChannelID: other.ID, StartedAt: start.Add(time.Hour)})
	require.NoError(t, err)

	out, err := b.run(t, "vod", "list")
	require.NoError(t, err)
	require.Regexp(t, `(?m)^ID\s+CHANNEL\s+BASENAME\s+STATUS\s+STARTED\s+DURATION\s+SIZE\s+CHAPTERS\s+PROTECTED$`, out)
	require.Regexp(t, `(?m)^\d+\s+demo\s+demo_20261204T192000Z\s+finalized\s+\S+ \S+\s+1h2m3s\s+1.5 GB\s+0\s+-$`, out)
	require.Contains(t, out, "other_20261204T202000Z")

	out, err = b.run(t, "vod", "list", "--channel", "demo")
	require.NoError(t, err)
	require.NotContains(t, out, "other_")

	out, stderr, err := b.runWithStderr(t, "vod", "list", "--limit", "1")
	require.NoError(t, err)
	require.Contains(t, out, "other_20261204T202000Z")
	require.Contains(t, stderr, "more recordings: add --cursor ")

	out, err = b.run(t, "--json", "vod", "list", "--channel", itoa(demo.ID))
	require.NoError(t, err)
	var page struct {
		Items      []dvr.VOD `json:"items"`
		NextCursor string    `json:"next_cursor"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &page))
	require.Len(t, page.Items, 1)
	require.Equal(t, v.ID, page.Items[0].ID)

	out, err = b.run(t, "vod", "protect", itoa(v.ID))
	require.NoError(t, err)
	require.Equal(t, "vod "+itoa(v.ID)+" (demo_20261204T192000Z) is protected\n", out)
	got, err := b.lib.GetVOD(ctx, v.ID)
	require.NoError(t, err)
	require.True(t, got.Protected)
	out, err = b.run(t, "vod", "protect", itoa(v.ID), "--off")
	require.NoError(t, err)
	require.Contains(t, out, "is no longer protected")

	dir, err := record.VODDir(b.storage, "demo", v.Basename)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	out, err = b.run(t, "vod", "rm", itoa(v.ID))
	require.NoError(t, err)
	require.Equal(t, "deleted vod "+itoa(v.ID)+"\n", out)
	require.NoDirExists(t, dir)
	_, err = b.run(t, "vod", "rm", itoa(v.ID))
	require.ErrorContains(t, err, "not found")
	_, err = b.run(t, "vod", "rm", "../1")
	require.ErrorContains(t, err, `vod id must be a positive number, got "../1"`)
}
