package record_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/record"
	"github.com/lsdvr/lsdvr/internal/store"
)

func ptr[T any](v T) *T { return &v }

func TestCreateChannelDefaultsAndEvent(t *testing.T) {
	t.Parallel()
	tb := setup(t)

	c, err := tb.lib.CreateChannel(tb.ctx, record.ChannelParams{Name: "Demo", URL: "https://example.test/live.m3u8"})
	require.NoError(t, err)
	require.Equal(t, dvr.Channel{
		ID: c.ID, Name: "demo", Provider: "stream", URL: "https://example.test/live.m3u8", Quality: "best",
		Backend: "auto", PollIntervalSec: 60, Enabled: true, CreatedAt: t0, UpdatedAt: t0,
	}, c)

	got, err := tb.lib.GetChannel(tb.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, c, got)
	got, err = tb.lib.GetChannelByName(tb.ctx, "DEMO")
	require.NoError(t, err)
	require.Equal(t, c, got)

	evs := tb.events(t)
	require.Len(t, evs, 1)
	require.Equal(t, event.ActionChannelUpdated, evs[0].Action)
	ch := evs[0].Data["channel"].(map[string]any)
	require.Equal(t, "demo", ch["name"])
	require.Equal(t, float64(60), ch["poll_interval_sec"])
	require.NotContains(t, ch, "deleted_at")
}

func TestCreateChannelRejectsBadInput(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	ok := record.ChannelParams{Name: "demo", URL: "http://127.0.0.1/live.m3u8"}
	cases := []struct {
		name string
		edit func(p *record.ChannelParams)
		msg  string
	}{
		{"no name", func(p *record.ChannelParams) { p.Name = "" }, "name is required"},
		{"traversal name", func(p *record.ChannelParams) { p.Name = "../etc" }, "path separator"},
		{"no url", func(p *record.ChannelParams) { p.URL = "" }, "url is required"},
		{"ftp url", func(p *record.ChannelParams) { p.URL = "ftp://example.test/x" }, "must start with http:// or https://"},
		{"file url", func(p *record.ChannelParams) { p.URL = "file:///etc/passwd" }, "must start with http:// or https://"},
		{"no host", func(p *record.ChannelParams) { p.URL = "http:///live" }, "must have a host"},
		{"not a url", func(p *record.ChannelParams) { p.URL = "http://exa mple.test/%zz" }, "not a valid URL"},
		{"bare word", func(p *record.ChannelParams) { p.URL = "demo" }, "must start with http"},
		{"poll too small", func(p *record.ChannelParams) { p.PollIntervalSec = 14 }, "poll_interval_sec must be at least 15 seconds, got 14"},
		{"poll negative", func(p *record.ChannelParams) { p.PollIntervalSec = -5 }, "at least 15"},
		{"backend", func(p *record.ChannelParams) { p.Backend = "vlc" }, `backend must be one of auto, streamlink, ffmpeg, got "vlc"`},
		{"keep_last", func(p *record.ChannelParams) { p.KeepLast = -1 }, "keep_last must be 0"},
		{"keep_gb", func(p *record.ChannelParams) { p.KeepGB = -0.5 }, "keep_gb must be between 0"},
		{"quality control char", func(p *record.ChannelParams) { p.Quality = "best\n" }, "quality must be"},
	}
	for _, tc := range cases {
		p := ok
		tc.edit(&p)
		_, err := tb.lib.CreateChannel(tb.ctx, p)
		require.Error(t, err, tc.name)
		require.Equal(t, dvr.EINVALID, dvr.ErrorCode(err), tc.name)
		require.Contains(t, err.Error(), tc.msg, tc.name)
	}
	list, err := tb.lib.ListChannels(tb.ctx)
	require.NoError(t, err)
	require.Empty(t, list, "nothing is written on bad input")
	require.Empty(t, tb.events(t))
}

func TestCreateChannelDuplicateNameConflicts(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	_, err := tb.lib.CreateChannel(tb.ctx, record.ChannelParams{Name: "demo", URL: "https://a.test/"})
	require.NoError(t, err)
	_, err = tb.lib.CreateChannel(tb.ctx, record.ChannelParams{Name: "DEMO", URL: "https://b.test/"})
	require.Equal(t, dvr.ECONFLICT, dvr.ErrorCode(err))
	require.ErrorContains(t, err, `a channel named "demo" already exists`)
	require.Equal(t, []event.Action{event.ActionChannelUpdated}, tb.actions(t))
}

func TestFailedTransactionLeavesNoEvent(t *testing.T) {
	t.Parallel()
	boom := errors.New("delivery table unavailable")
	fail := true
	tb := setup(t, event.TxHookFunc(func(ctx context.Context, tx *store.Tx, ev *event.Event) error {
		if fail {
			return boom
		}
		return nil
	}))

	_, err := tb.lib.CreateChannel(tb.ctx, record.ChannelParams{Name: "demo", URL: "https://a.test/"})
	require.ErrorIs(t, err, boom)
	list, err := tb.lib.ListChannels(tb.ctx)
	require.NoError(t, err)
	require.Empty(t, list, "the channel rolls back with its event")
	require.Empty(t, tb.events(t))

	fail = false
	c, err := tb.lib.CreateChannel(tb.ctx, record.ChannelParams{Name: "demo", URL: "https://a.test/"})
	require.NoError(t, err)
	fail = true
	_, err = tb.lib.UpdateChannel(tb.ctx, c.ID, record.ChannelPatch{Quality: ptr("720p")})
	require.ErrorIs(t, err, boom)
	got, err := tb.lib.GetChannel(tb.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, "best", got.Quality)
	require.Len(t, tb.events(t), 1)
}

func TestUpdateChannelPatch(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	c, err := tb.lib.CreateChannel(tb.ctx, record.ChannelParams{Name: "demo", URL: "https://a.test/", KeepLast: 3})
	require.NoError(t, err)

	later := t0.Add(time.Minute)
	tb.clock.Set(later)
	got, err := tb.lib.UpdateChannel(tb.ctx, c.ID, record.ChannelPatch{
		Quality: ptr("720p,best"), PollIntervalSec: ptr(15), Enabled: ptr(false), Backend: ptr("ffmpeg"),
	})
	require.NoError(t, err)
	want := c
	want.Quality, want.PollIntervalSec, want.Enabled, want.Backend, want.UpdatedAt = "720p,best", 15, false, "ffmpeg", later
	require.Equal(t, want, got)
	stored, err := tb.lib.GetChannel(tb.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, want, stored)

	// A patch that changes nothing publishes nothing.
	_, err = tb.lib.UpdateChannel(tb.ctx, c.ID, record.ChannelPatch{KeepLast: ptr(3)})
	require.NoError(t, err)
	require.Equal(t, []event.Action{event.ActionChannelUpdated, event.ActionChannelUpdated}, tb.actions(t))
	require.Equal(t, "720p,best", tb.events(t)[1].Data["channel"].(map[string]any)["quality"])

	_, err = tb.lib.UpdateChannel(tb.ctx, c.ID, record.ChannelPatch{PollIntervalSec: ptr(10)})
	require.ErrorContains(t, err, "poll_interval_sec must be at least 15 seconds, got 10")
	_, err = tb.lib.UpdateChannel(tb.ctx, c.ID, record.ChannelPatch{URL: ptr("gopher://x")})
	require.Equal(t, dvr.EINVALID, dvr.ErrorCode(err))
	_, err = tb.lib.UpdateChannel(tb.ctx, 999, record.ChannelPatch{})
	require.True(t, dvr.IsNotFound(err))
	require.Len(t, tb.events(t), 2)
}

func TestUpdateChannelRename(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	a, err := tb.lib.CreateChannel(tb.ctx, record.ChannelParams{Name: "a", URL: "https://a.test/"})
	require.NoError(t, err)
	_, err = tb.lib.CreateChannel(tb.ctx, record.ChannelParams{Name: "b", URL: "https://b.test/"})
	require.NoError(t, err)

	_, err = tb.lib.UpdateChannel(tb.ctx, a.ID, record.ChannelPatch{Name: ptr("b")})
	require.Equal(t, dvr.ECONFLICT, dvr.ErrorCode(err))
	got, err := tb.lib.UpdateChannel(tb.ctx, a.ID, record.ChannelPatch{Name: ptr("A2")})
	require.NoError(t, err)
	require.Equal(t, "a2", got.Name)

	_, err = tb.lib.CreateVOD(tb.ctx, record.CreateVODParams{ChannelID: a.ID})
	require.NoError(t, err)
	_, err = tb.lib.UpdateChannel(tb.ctx, a.ID, record.ChannelPatch{Name: ptr("a3")})
	require.Equal(t, dvr.ECONFLICT, dvr.ErrorCode(err))
	require.ErrorContains(t, err, "cannot be renamed")
}

func TestSetLivePublishesOnlyChanges(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	c, err := tb.lib.CreateChannel(tb.ctx, record.ChannelParams{Name: "demo", URL: "https://a.test/"})
	require.NoError(t, err)

	got, changed, err := tb.lib.SetLive(tb.ctx, c.ID, true, "Speedrun", "Games")
	require.NoError(t, err)
	require.True(t, changed)
	require.True(t, got.IsLive)
	_, changed, err = tb.lib.SetLive(tb.ctx, c.ID, true, "Speedrun", "Games")
	require.NoError(t, err)
	require.False(t, changed)
	_, changed, err = tb.lib.SetLive(tb.ctx, c.ID, true, "Speedrun 2", "Games")
	require.NoError(t, err)
	require.True(t, changed)
	_, changed, err = tb.lib.SetLive(tb.ctx, c.ID, false, "Speedrun 2", "Games")
	require.NoError(t, err)
	require.True(t, changed)

	evs := tb.events(t)
	require.Len(t, evs, 4)
	var titles []any
	var live []any
	for _, ev := range evs[1:] {
		ch := ev.Data["channel"].(map[string]any)
		titles, live = append(titles, ch["title"]), append(live, ch["is_live"])
	}
	require.Equal(t, []any{"Speedrun", "Speedrun 2", "Speedrun 2"}, titles)
	require.Equal(t, []any{true, true, false}, live)

	_, _, err = tb.lib.SetLive(tb.ctx, 999, true, "", "")
	require.True(t, dvr.IsNotFound(err))
}

func TestDeleteChannel(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	c, err := tb.lib.CreateChannel(tb.ctx, record.ChannelParams{Name: "demo", URL: "https://a.test/"})
	require.NoError(t, err)
	other, err := tb.lib.CreateChannel(tb.ctx, record.ChannelParams{Name: "other", URL: "https://b.test/"})
	require.NoError(t, err)
	var dirs []string
	for i := range 2 {
		v, err := tb.lib.CreateVOD(tb.ctx, record.CreateVODParams{ChannelID: c.ID, StartedAt: t0.Add(time.Duration(i) * time.Hour)})
		require.NoError(t, err)
		_, err = tb.lib.UpdateVOD(tb.ctx, v.ID, record.VODPatch{Status: ptr(record.StatusFinalized)})
		require.NoError(t, err)
		dirs = append(dirs, writeVODFiles(t, tb, v))
	}
	keep, err := tb.lib.CreateVOD(tb.ctx, record.CreateVODParams{ChannelID: other.ID})
	require.NoError(t, err)
	keepDir := writeVODFiles(t, tb, keep)

	err = tb.lib.DeleteChannel(tb.ctx, c.ID, false)
	require.Equal(t, dvr.ECONFLICT, dvr.ErrorCode(err))
	require.ErrorContains(t, err, "has 2 VODs; delete them too with delete_vods=true")
	before := len(tb.events(t))

	require.NoError(t, tb.lib.DeleteChannel(tb.ctx, c.ID, true))
	_, err = tb.lib.GetChannel(tb.ctx, c.ID)
	require.True(t, dvr.IsNotFound(err))
	for _, d := range dirs {
		require.NoDirExists(t, d)
	}
	require.NoDirExists(t, filepath.Join(tb.storage, "demo"), "the emptied channel folder goes too")
	require.DirExists(t, keepDir)
	page, err := tb.lib.ListVODs(tb.ctx, record.ListVODsParams{})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)

	evs := tb.events(t)[before:]
	require.Len(t, evs, 3)
	require.Equal(t, event.ActionVODRemoved, evs[0].Action)
	require.Equal(t, map[string]any{"basename": "demo_20261204T192000Z", "channel": "demo", "reason": "channel_removed"}, evs[0].Data)
	require.Equal(t, event.ActionVODRemoved, evs[1].Action)
	require.Equal(t, event.ActionChannelUpdated, evs[2].Action)
	require.Equal(t, "2026-12-04T19:20:00Z", evs[2].Data["channel"].(map[string]any)["deleted_at"])

	require.True(t, dvr.IsNotFound(tb.lib.DeleteChannel(tb.ctx, c.ID, true)))
	// A channel whose VOD is still capturing is not removed, even with the flag.
	err = tb.lib.DeleteChannel(tb.ctx, other.ID, true)
	require.Equal(t, dvr.ECONFLICT, dvr.ErrorCode(err))
	require.ErrorContains(t, err, "is capturing")
	require.DirExists(t, keepDir)
	_, err = tb.lib.UpdateVOD(tb.ctx, keep.ID, record.VODPatch{Status: ptr(record.StatusInterrupted)})
	require.NoError(t, err)
	require.NoError(t, tb.lib.DeleteVOD(tb.ctx, keep.ID, ""))
	// An empty channel needs no flag.
	require.NoError(t, tb.lib.DeleteChannel(tb.ctx, other.ID, false))
	list, err := tb.lib.ListChannels(tb.ctx)
	require.NoError(t, err)
	require.Empty(t, list)
}

// writeVODFiles creates a VOD's folder with a file in it and returns the folder.
func writeVODFiles(t *testing.T, tb *testBundle, v dvr.VOD) string {
	t.Helper()
	dir, err := record.VODDir(tb.storage, v.ChannelName, v.Basename)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "parts"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "parts", "part-001.ts"), []byte("ts"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, v.Basename+".mp4"), []byte("mp4"), 0o644))
	return dir
}
