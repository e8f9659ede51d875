package record_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/record"
)

func newChannel(t *testing.T, tb *testBundle, name string) dvr.Channel {
	t.Helper()
	c, err := tb.lib.CreateChannel(tb.ctx, record.ChannelParams{Name: name, URL: "https://" + name + ".test/live"})
	require.NoError(t, err)
	return c
}

func TestCreateVODBasename(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	c := newChannel(t, tb, "demo")
	start := time.Date(2026, 12, 4, 20, 20, 0, 500e6, time.FixedZone("CET", 3600))

	v1, err := tb.lib.CreateVOD(tb.ctx, record.CreateVODParams{ChannelID: c.ID, Title: "First", StartedAt: start})
	require.NoError(t, err)
	require.Equal(t, dvr.VOD{ID: v1.ID, Basename: "demo_20261204T192000Z", ChannelID: c.ID, ChannelName: "demo",
		Title: "First", Status: "capturing", StartedAt: start.UTC()}, v1)
	// A second broadcast starting in the same second still gets its own folder.
	v2, err := tb.lib.CreateVOD(tb.ctx, record.CreateVODParams{ChannelID: c.ID, StartedAt: start})
	require.NoError(t, err)
	require.Equal(t, "demo_20261204T192000Z_2", v2.Basename)
	// Zero start means now.
	v3, err := tb.lib.CreateVOD(tb.ctx, record.CreateVODParams{ChannelID: c.ID})
	require.NoError(t, err)
	require.Equal(t, t0, v3.StartedAt)
	require.Equal(t, "demo_20261204T192000Z_3", v3.Basename)

	got, err := tb.lib.GetVOD(tb.ctx, v1.ID)
	require.NoError(t, err)
	require.Equal(t, v1, got)

	evs := tb.events(t)
	require.Len(t, evs, 4)
	require.Equal(t, event.ActionVODUpdated, evs[1].Action)
	require.Equal(t, "demo_20261204T192000Z", evs[1].Data["vod"].(map[string]any)["basename"])
	require.Equal(t, "capturing", evs[1].Data["vod"].(map[string]any)["status"])

	_, err = tb.lib.CreateVOD(tb.ctx, record.CreateVODParams{ChannelID: 999})
	require.True(t, dvr.IsNotFound(err))
	_, err = tb.lib.GetVOD(tb.ctx, 999)
	require.True(t, dvr.IsNotFound(err))
}

func TestVODLifecycle(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	c := newChannel(t, tb, "demo")
	v, err := tb.lib.CreateVOD(tb.ctx, record.CreateVODParams{ChannelID: c.ID, Title: "Speedrun", StartedAt: t0})
	require.NoError(t, err)

	ch0, err := tb.lib.AddChapter(tb.ctx, v.ID, record.ChapterParams{Title: "Speedrun", Category: "Games", StartedAt: t0})
	require.NoError(t, err)
	require.Equal(t, dvr.Chapter{Index: 0, Title: "Speedrun", Category: "Games", StartedAt: t0}, ch0)
	ch1, err := tb.lib.AddChapter(tb.ctx, v.ID, record.ChapterParams{Title: "Chatting", Category: "Just Chatting", StartedAt: t0.Add(90*time.Second + 250*time.Millisecond)})
	require.NoError(t, err)
	require.Equal(t, 1, ch1.Index)
	require.InDelta(t, 90.25, ch1.OffsetSec, 1e-9)

	files := []record.VODFile{
		{Name: "parts/part-001.ts", Kind: record.FileCapturePart, SizeBytes: 1000},
		{Name: "demo_20261204T192000Z.mp4", Kind: record.FileMP4, SizeBytes: 900},
		{Name: "chapters.vtt", Kind: record.FileChaptersVTT, SizeBytes: 10},
	}
	withFiles, err := tb.lib.SetFiles(tb.ctx, v.ID, files)
	require.NoError(t, err)
	require.Equal(t, int64(1910), withFiles.SizeBytes)
	require.Equal(t, []string{"chapters.vtt", "demo_20261204T192000Z.mp4", "parts/part-001.ts"}, withFiles.Files)

	end := t0.Add(2 * time.Hour)
	done, err := tb.lib.UpdateVOD(tb.ctx, v.ID, record.VODPatch{Status: ptr(record.StatusFinalized), EndedAt: &end, DurationSec: ptr(7200.5)})
	require.NoError(t, err)
	require.Equal(t, "finalized", done.Status)
	protected, err := tb.lib.SetProtected(tb.ctx, v.ID, true)
	require.NoError(t, err)
	require.True(t, protected.Protected)
	// Protecting twice changes nothing and publishes nothing.
	_, err = tb.lib.SetProtected(tb.ctx, v.ID, true)
	require.NoError(t, err)

	got, err := tb.lib.GetVOD(tb.ctx, v.ID)
	require.NoError(t, err)
	require.Equal(t, dvr.VOD{
		ID: v.ID, Basename: "demo_20261204T192000Z", ChannelID: c.ID, ChannelName: "demo", Title: "Speedrun",
		Status: "finalized", StartedAt: t0, EndedAt: &end, DurationSec: 7200.5, SizeBytes: 1910, Protected: true,
		Chapters: []dvr.Chapter{ch0, ch1}, Files: withFiles.Files,
	}, got)

	require.Equal(t, []event.Action{
		event.ActionChannelUpdated, event.ActionVODUpdated,
		event.ActionChapterUpdate, event.ActionChapterUpdate,
		event.ActionVODUpdated, event.ActionVODUpdated, event.ActionVODUpdated,
	}, tb.actions(t))
	evs := tb.events(t)
	require.Equal(t, "Chatting", evs[3].Data["chapter"].(map[string]any)["title"])
	require.Len(t, evs[3].Data["vod"].(map[string]any)["chapters"], 2)
	require.Equal(t, true, evs[6].Data["vod"].(map[string]any)["protected"])
}

func TestVODUpdatesRejectBadInput(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	c := newChannel(t, tb, "demo")
	v, err := tb.lib.CreateVOD(tb.ctx, record.CreateVODParams{ChannelID: c.ID, StartedAt: t0})
	require.NoError(t, err)
	before := len(tb.events(t))

	_, err = tb.lib.UpdateVOD(tb.ctx, v.ID, record.VODPatch{Status: ptr("done")})
	require.ErrorContains(t, err, `status must be one of capturing, converting, finalized, interrupted, failed; got "done"`)
	_, err = tb.lib.UpdateVOD(tb.ctx, v.ID, record.VODPatch{EndedAt: ptr(t0.Add(-time.Second))})
	require.ErrorContains(t, err, "is before started_at")
	_, err = tb.lib.UpdateVOD(tb.ctx, v.ID, record.VODPatch{SizeBytes: ptr(int64(-1))})
	require.ErrorContains(t, err, "size_bytes must be 0 or more")

	hostile := []record.VODFile{
		{Name: "../../../etc/passwd", Kind: record.FileLog},
		{Name: "/etc/passwd", Kind: record.FileLog},
		{Name: "parts/../../x", Kind: record.FileLog},
		{Name: "x\x00.mp4", Kind: record.FileMP4},
		{Name: ".hidden", Kind: record.FileLog},
		{Name: "ok.mp4", Kind: "exe"},
		{Name: "ok.mp4", Kind: record.FileMP4, SizeBytes: -1},
	}
	for _, f := range hostile {
		_, err := tb.lib.SetFiles(tb.ctx, v.ID, []record.VODFile{f})
		require.Error(t, err, f.Name)
		require.Equal(t, dvr.EINVALID, dvr.ErrorCode(err), f.Name)
	}
	_, err = tb.lib.SetFiles(tb.ctx, v.ID, []record.VODFile{{Name: "a.mp4", Kind: record.FileMP4}, {Name: "a.mp4", Kind: record.FileMP4}})
	require.ErrorContains(t, err, `file "a.mp4" is listed twice`)

	got, err := tb.lib.GetVOD(tb.ctx, v.ID)
	require.NoError(t, err)
	require.Equal(t, v, got, "nothing changed")
	require.Len(t, tb.events(t), before, "no event for a refused change")
}

func TestDeleteVODRemovesFilesAndEmitsVODRemoved(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	c := newChannel(t, tb, "demo")
	v, err := tb.lib.CreateVOD(tb.ctx, record.CreateVODParams{ChannelID: c.ID, StartedAt: t0})
	require.NoError(t, err)
	sibling, err := tb.lib.CreateVOD(tb.ctx, record.CreateVODParams{ChannelID: c.ID, StartedAt: t0.Add(time.Hour)})
	require.NoError(t, err)
	dir := writeVODFiles(t, tb, v)
	siblingDir := writeVODFiles(t, tb, sibling)
	_, err = tb.lib.AddChapter(tb.ctx, v.ID, record.ChapterParams{Title: "x"})
	require.NoError(t, err)
	_, err = tb.lib.SetFiles(tb.ctx, v.ID, []record.VODFile{{Name: "parts/part-001.ts", Kind: record.FileCapturePart, SizeBytes: 2}})
	require.NoError(t, err)

	err = tb.lib.DeleteVOD(tb.ctx, v.ID, "")
	require.Equal(t, dvr.ECONFLICT, dvr.ErrorCode(err), "a capturing VOD is not deleted")
	require.DirExists(t, dir)

	_, err = tb.lib.UpdateVOD(tb.ctx, v.ID, record.VODPatch{Status: ptr(record.StatusFinalized)})
	require.NoError(t, err)
	require.NoError(t, tb.lib.DeleteVOD(tb.ctx, v.ID, ""))
	require.NoDirExists(t, dir)
	require.DirExists(t, siblingDir)
	_, err = tb.lib.GetVOD(tb.ctx, v.ID)
	require.True(t, dvr.IsNotFound(err))

	evs := tb.events(t)
	last := evs[len(evs)-1]
	require.Equal(t, event.ActionVODRemoved, last.Action)
	require.Equal(t, map[string]any{"basename": "demo_20261204T192000Z", "channel": "demo", "reason": "manual"}, last.Data)

	var rows int
	require.NoError(t, tb.db.Read.QueryRow(`SELECT (SELECT COUNT(*) FROM vod_chapters) + (SELECT COUNT(*) FROM vod_files)`).Scan(&rows))
	require.Zero(t, rows, "chapters and files go with the VOD")
	require.True(t, dvr.IsNotFound(tb.lib.DeleteVOD(tb.ctx, v.ID, "")))
}

func TestDeleteVODReportsLeftoverFiles(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	tb.lib.SetRemoveAllFunc(func(string) error { return errors.New("device busy") })
	c := newChannel(t, tb, "demo")
	v, err := tb.lib.CreateVOD(tb.ctx, record.CreateVODParams{ChannelID: c.ID, StartedAt: t0})
	require.NoError(t, err)
	_, err = tb.lib.UpdateVOD(tb.ctx, v.ID, record.VODPatch{Status: ptr(record.StatusFailed)})
	require.NoError(t, err)
	dir := writeVODFiles(t, tb, v)

	require.NoError(t, tb.lib.DeleteVOD(tb.ctx, v.ID, "manual"), "the deletion stands")
	require.DirExists(t, dir)
	evs := tb.events(t)
	require.Equal(t, event.ActionVODRemoved, evs[len(evs)-2].Action)
	alert := evs[len(evs)-1]
	require.Equal(t, event.ActionAlert, alert.Action)
	require.Equal(t, "error", alert.Data["level"])
	require.Contains(t, alert.Data["text"], "device busy")
	require.Contains(t, alert.Data["text"], filepath.Join("demo", "demo_20261204T192000Z"))
}

func TestDeleteVODOfMissingFolder(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	c := newChannel(t, tb, "demo")
	v, err := tb.lib.CreateVOD(tb.ctx, record.CreateVODParams{ChannelID: c.ID, StartedAt: t0})
	require.NoError(t, err)
	_, err = tb.lib.UpdateVOD(tb.ctx, v.ID, record.VODPatch{Status: ptr(record.StatusFailed)})
	require.NoError(t, err)
	_, statErr := os.Stat(tb.storage)
	require.True(t, os.IsNotExist(statErr))

	require.NoError(t, tb.lib.DeleteVOD(tb.ctx, v.ID, ""))
	require.NotContains(t, tb.actions(t), event.ActionAlert, "a folder never created is not an error")
}
