package record_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/media"
	"github.com/lsdvr/lsdvr/internal/record"
	"github.com/lsdvr/lsdvr/internal/store"
)

// TestConvertJobFinalizesVOD runs the conversion job on two real parts
// with two chapters and checks what a user would: a playable MP4 with both
// chapters and the right duration, the sidecars, no .ts left, and the
// events in order with start_convert once.
func TestConvertJobFinalizesVOD(t *testing.T) {
	t.Parallel()
	cb := setupConvert(t, convOpts{jobs: true})
	cb.startJobs(t)
	v, dir := cb.capturedVOD(t, "alice", 2, true)
	want := cb.partsDuration(t, dir)

	cb.queueConvert(t, v.ID, false)
	cb.seen.waitVOD(t, event.ActionEndDownload, v.ID)

	got, err := cb.lib.GetVOD(cb.ctx, v.ID)
	require.NoError(t, err)
	require.Equal(t, record.StatusFinalized, got.Status)
	require.InEpsilon(t, want.Seconds(), got.DurationSec, 0.02)
	require.ElementsMatch(t, []string{
		"capture.log", "convert.log", v.Basename + ".chapters.csv", v.Basename + ".chapters.vtt",
		v.Basename + ".info.json", v.Basename + ".mp4",
	}, got.Files)

	// The folder holds exactly those files: no parts, no temporary files.
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.ElementsMatch(t, got.Files, names)

	res := cb.probe(t, filepath.Join(dir, v.Basename+".mp4"))
	require.Equal(t, "mov,mp4,m4a,3gp,3g2,mj2", res.Format)
	require.InEpsilon(t, want.Seconds(), res.Duration.Seconds(), 0.02)
	_, ok := res.Video()
	require.True(t, ok)
	_, ok = res.Audio()
	require.True(t, ok)
	require.Len(t, res.Chapters, 2)
	require.Equal(t, "Hello (Just Chatting)", res.Chapters[0].Title)
	require.Equal(t, time.Duration(0), res.Chapters[0].Start)
	require.Equal(t, "Hello (Tetris)", res.Chapters[1].Title)
	require.Equal(t, 2*time.Second, res.Chapters[1].Start)

	vtt, err := os.ReadFile(filepath.Join(dir, v.Basename+".chapters.vtt"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(vtt), "WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.000\nHello (Just Chatting)\n\n2\n00:00:02.000 --> 00:00:04."), string(vtt))
	csv, err := os.ReadFile(filepath.Join(dir, v.Basename+".chapters.csv"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	require.Len(t, lines, 2)
	require.Equal(t, "0.000,2.000,Hello (Just Chatting)", lines[0])
	require.True(t, strings.HasPrefix(lines[1], "2.000,4."), lines[1])
	require.True(t, strings.HasSuffix(lines[1], ",Hello (Tetris)"), lines[1])

	var info record.VODInfo
	raw, err := os.ReadFile(filepath.Join(dir, v.Basename+".info.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &info))
	require.Equal(t, v.ID, info.ID)
	require.Equal(t, "alice", info.Channel)
	require.Equal(t, "Hello", info.Title)
	require.Equal(t, record.StatusFinalized, info.Status)
	require.True(t, info.StartedAt.Equal(t0))
	require.NotNil(t, info.EndedAt)
	require.InDelta(t, got.DurationSec, info.DurationSec, 0.001)
	require.Len(t, info.Chapters, 2)
	require.Equal(t, "Tetris", info.Chapters[1].Category)
	require.InDelta(t, 2.0, info.Chapters[0].EndSec, 0.001)
	var infoFiles []string
	for _, f := range info.Files {
		infoFiles = append(infoFiles, f.Name)
		if f.Kind == record.FileMP4 {
			require.Positive(t, f.SizeBytes)
		}
	}
	require.Contains(t, infoFiles, v.Basename+".mp4")
	require.NotContains(t, infoFiles, v.Basename+".part001.ts")

	evs := cb.vodEvents(t, v.ID)
	require.Equal(t, []event.Action{event.ActionStartConvert, event.ActionEndConvert, event.ActionVODUpdated, event.ActionEndDownload},
		actionsOf(afterFirst(evs, event.ActionStartConvert), event.ActionStartConvert, event.ActionEndConvert, event.ActionVODUpdated, event.ActionEndDownload))
	require.Len(t, actionsOf(evs, event.ActionStartConvert), 1)
	end := firstOf(t, evs, event.ActionEndConvert)
	require.Equal(t, true, end.Data["success"])
	require.Equal(t, record.StatusFinalized, end.Data["vod"].(map[string]any)["status"])
	require.NotContains(t, actionsOf(evs), event.ActionNotify)

	// The job reported remux progress.
	var progressed bool
	for _, ev := range cb.events(t) {
		if ev.Action == event.ActionJobProgress && strings.HasPrefix(ev.Data["job_name"].(string), record.ConvertKind+":") {
			progressed = true
		}
	}
	require.True(t, progressed, "no job_progress for the conversion")
}

// afterFirst returns the events from the first of action on.
func afterFirst(evs []loggedEvent, action event.Action) []loggedEvent {
	for i, ev := range evs {
		if ev.Action == action {
			return evs[i:]
		}
	}
	return nil
}

func TestConvertKeepTSKeepsParts(t *testing.T) {
	t.Parallel()
	cb := setupConvert(t, convOpts{config: func(c *record.ConverterConfig) { c.KeepTS = true }})
	v, dir := cb.capturedVOD(t, "bob", 2, false)
	cb.markConverting(t, v.ID)

	require.NoError(t, cb.conv.Convert(cb.ctx, v.ID, false))

	got, err := cb.lib.GetVOD(cb.ctx, v.ID)
	require.NoError(t, err)
	require.Equal(t, record.StatusFinalized, got.Status)
	require.Contains(t, got.Files, v.Basename+".part001.ts")
	require.Contains(t, got.Files, v.Basename+".part002.ts")
	require.Contains(t, got.Files, v.Basename+".mp4")
	// Without chapters there are no chapter files.
	require.NotContains(t, got.Files, v.Basename+".chapters.vtt")
	for _, name := range []string{".part001.ts", ".part002.ts", ".mp4", ".info.json"} {
		require.FileExists(t, filepath.Join(dir, v.Basename+name))
	}
	require.Empty(t, cb.probe(t, filepath.Join(dir, v.Basename+".mp4")).Chapters)
}

func TestConvertCorruptPartFails(t *testing.T) {
	t.Parallel()
	cb := setupConvert(t, convOpts{})
	v, dir := cb.capturedVOD(t, "carol", 1, true)
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(i*7 + 3)
	}
	bad := filepath.Join(dir, v.Basename+".part002.ts")
	require.NoError(t, os.WriteFile(bad, garbage, 0o644))
	cb.markConverting(t, v.ID)

	err := cb.conv.Convert(cb.ctx, v.ID, false)
	require.ErrorIs(t, err, record.ErrConvertFailed)
	require.Contains(t, err.Error(), v.Basename+".part002.ts")

	got, err := cb.lib.GetVOD(cb.ctx, v.ID)
	require.NoError(t, err)
	require.Equal(t, record.StatusFailed, got.Status)
	require.Contains(t, got.Files, v.Basename+".part001.ts")
	require.Contains(t, got.Files, v.Basename+".part002.ts")
	require.FileExists(t, filepath.Join(dir, v.Basename+".part001.ts"))
	require.FileExists(t, bad)
	require.NoFileExists(t, filepath.Join(dir, v.Basename+".mp4"))
	require.NoFileExists(t, filepath.Join(dir, v.Basename+".mp4.tmp"))

	evs := cb.vodEvents(t, v.ID)
	require.Equal(t, []event.Action{event.ActionStartConvert, event.ActionEndConvert, event.ActionVODUpdated, event.ActionNotify, event.ActionEndDownload},
		actionsOf(afterFirst(evs, event.ActionStartConvert)))
	end := firstOf(t, evs, event.ActionEndConvert)
	require.Equal(t, false, end.Data["success"])
	reason := end.Data["reason"].(string)
	require.Contains(t, reason, "part002.ts cannot be read")
	require.Contains(t, reason, "Invalid data")
	notify := firstOf(t, evs, event.ActionNotify)
	require.Equal(t, "capture_failed", notify.Data["category"])
	require.Contains(t, notify.Data["body"], reason)

	// A second run (a retried job) changes nothing and announces nothing.
	before := len(cb.events(t))
	require.NoError(t, cb.conv.Convert(cb.ctx, v.ID, false))
	require.Len(t, cb.events(t), before)
}

func TestConvertRemuxFailureKeepsParts(t *testing.T) {
	t.Parallel()
	// A "ffmpeg" that fails like a real one with an error on stderr.
	fake := filepath.Join(t.TempDir(), "ffmpeg")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\necho 'first line' >&2\necho 'Error writing trailer: No space left on device' >&2\nexit 1\n"), 0o755))
	cb := setupConvert(t, convOpts{config: func(c *record.ConverterConfig) { c.FFmpegPath = fake }})
	v, dir := cb.capturedVOD(t, "erin", 1, true)
	cb.markConverting(t, v.ID)

	err := cb.conv.Convert(cb.ctx, v.ID, false)
	require.ErrorIs(t, err, record.ErrConvertFailed)

	got, err := cb.lib.GetVOD(cb.ctx, v.ID)
	require.NoError(t, err)
	require.Equal(t, record.StatusFailed, got.Status)
	require.FileExists(t, filepath.Join(dir, v.Basename+".part001.ts"))
	require.NoFileExists(t, filepath.Join(dir, v.Basename+".mp4"))
	require.NoFileExists(t, filepath.Join(dir, v.Basename+".mp4.tmp"))
	require.NoFileExists(t, filepath.Join(dir, v.Basename+".ffconcat"))
	require.Contains(t, got.Files, "convert.log")
	end := firstOf(t, cb.vodEvents(t, v.ID), event.ActionEndConvert)
	require.Equal(t, "remux failed: ffmpeg exited with code 1: first line | Error writing trailer: No space left on device", end.Data["reason"])
}

func TestConvertNotEnoughFreeSpace(t *testing.T) {
	t.Parallel()
	cb := setupConvert(t, convOpts{config: func(c *record.ConverterConfig) {
		c.FreeBytesFunc = func(string) (uint64, error) { return 1000, nil }
	}})
	v, dir := cb.capturedVOD(t, "dave", 2, true)
	cb.markConverting(t, v.ID)

	err := cb.conv.Convert(cb.ctx, v.ID, false)
	require.ErrorIs(t, err, record.ErrConvertFailed)

	got, err := cb.lib.GetVOD(cb.ctx, v.ID)
	require.NoError(t, err)
	require.Equal(t, record.StatusFailed, got.Status)
	require.FileExists(t, filepath.Join(dir, v.Basename+".part001.ts"))
	require.NoFileExists(t, filepath.Join(dir, "convert.log"), "ffmpeg must not run")
	evs := cb.vodEvents(t, v.ID)
	reason := firstOf(t, evs, event.ActionEndConvert).Data["reason"].(string)
	require.Contains(t, reason, "not enough free space to convert")
	require.Contains(t, reason, "has 1.0 kB free")
	alert := firstOf(t, evs, event.ActionAlert)
	require.Equal(t, event.LevelError, alert.Data["level"])
	require.Contains(t, alert.Data["text"], v.Basename)
	require.Contains(t, alert.Data["text"], "not enough free space")
	require.Equal(t, event.ActionEndDownload, evs[len(evs)-1].Action)
}

func TestConvertIsIdempotent(t *testing.T) {
	t.Parallel()
	cb := setupConvert(t, convOpts{})
	v, _ := cb.capturedVOD(t, "frank", 1, true)
	cb.markConverting(t, v.ID)

	require.NoError(t, cb.conv.Convert(cb.ctx, v.ID, false))
	before := len(cb.events(t))
	require.NoError(t, cb.conv.Convert(cb.ctx, v.ID, false))
	require.Len(t, cb.events(t), before, "a second run publishes nothing")
	evs := cb.vodEvents(t, v.ID)
	require.Len(t, actionsOf(evs, event.ActionStartConvert), 1)
	require.Len(t, actionsOf(evs, event.ActionEndConvert), 1)
}

// TestConvertKeepsVerifiedMP4 resumes a conversion that stopped after the
// MP4 was renamed into place (and the parts deleted) but before the VOD was
// recorded: it finishes without running ffmpeg again.
func TestConvertKeepsVerifiedMP4(t *testing.T) {
	t.Parallel()
	cb := setupConvert(t, convOpts{})
	v, dir := cb.capturedVOD(t, "gina", 1, false)
	cb.markConverting(t, v.ID)
	part := filepath.Join(dir, v.Basename+".part001.ts")
	mp4 := filepath.Join(dir, v.Basename+".mp4")
	require.NoError(t, media.Run(cb.ctx, media.Cmd{Path: cb.ffmpeg, Args: []string{
		"-nostdin", "-loglevel", "error", "-i", part, "-c", "copy", "-f", "mp4", mp4}}))
	require.NoError(t, os.Remove(part))
	before, err := os.Stat(mp4)
	require.NoError(t, err)

	require.NoError(t, cb.conv.Convert(cb.ctx, v.ID, true))

	got, err := cb.lib.GetVOD(cb.ctx, v.ID)
	require.NoError(t, err)
	require.Equal(t, record.StatusInterrupted, got.Status)
	require.InDelta(t, partSeconds, got.DurationSec, 0.1)
	after, err := os.Stat(mp4)
	require.NoError(t, err)
	require.True(t, os.SameFile(before, after), "the MP4 was replaced")
	require.NoFileExists(t, filepath.Join(dir, "convert.log"), "ffmpeg ran again")
	require.Len(t, actionsOf(cb.vodEvents(t, v.ID), event.ActionStartConvert, event.ActionEndConvert, event.ActionEndDownload), 3)
}

func TestConvertRefusesVODNotConverting(t *testing.T) {
	t.Parallel()
	cb := setupConvert(t, convOpts{})
	v, _ := cb.capturedVOD(t, "hank", 1, false)

	err := cb.conv.Convert(cb.ctx, v.ID, false)
	require.Error(t, err)
	require.NotErrorIs(t, err, record.ErrConvertFailed)
	require.Contains(t, err.Error(), "capturing")
	require.True(t, dvr.IsNotFound(cb.conv.Convert(cb.ctx, 9999, false)))
	require.Empty(t, actionsOf(cb.vodEvents(t, v.ID), event.ActionStartConvert))
}

func TestMarkConvertingOnlyFromCapturing(t *testing.T) {
	t.Parallel()
	cb := setupConvert(t, convOpts{})
	v, _ := cb.capturedVOD(t, "ivy", 0, false)
	cb.clock.Set(t0.Add(time.Hour))
	cb.markConverting(t, v.ID)
	got, err := cb.lib.GetVOD(cb.ctx, v.ID)
	require.NoError(t, err)
	require.Equal(t, record.StatusConverting, got.Status)
	require.NotNil(t, got.EndedAt)
	require.True(t, got.EndedAt.Equal(t0.Add(time.Hour)))
	// Again: no change, no event.
	before := len(cb.events(t))
	cb.markConverting(t, v.ID)
	require.Len(t, cb.events(t), before)

	_, err = cb.lib.UpdateVOD(cb.ctx, v.ID, record.VODPatch{Status: ptr(record.StatusFinalized)})
	require.NoError(t, err)
	err = cb.db.InTx(cb.ctx, func(tx *store.Tx) error {
		_, err := cb.lib.MarkConverting(cb.ctx, tx, v.ID)
		return err
	})
	require.Equal(t, dvr.ECONFLICT, dvr.ErrorCode(err))
}

// TestConvertJobCancelsMissingVOD checks that a job for a VOD that no
// longer exists is cancelled, not retried.
func TestConvertJobCancelsMissingVOD(t *testing.T) {
	t.Parallel()
	cb := setupConvert(t, convOpts{jobs: true})
	cb.startJobs(t)
	row, err := cb.jobs.Insert(cb.ctx, record.ConvertVODArgs{VODID: 4242}, nil)
	require.NoError(t, err)
	name := record.ConvertKind + ":" + jsonNumber(row.ID)
	cb.seen.waitFor(t, "job_clear of "+name, func(a event.Action, data map[string]any) bool {
		return a == event.ActionJobClear && data["job_name"] == name
	})
	var last map[string]any
	for _, ev := range cb.events(t) {
		if ev.Action == event.ActionJobUpdate && ev.Data["job_name"] == name {
			last = ev.Data["job"].(map[string]any)
		}
	}
	require.Equal(t, "cancelled", last["state"])
	require.Contains(t, last["error"], "vod 4242 not found")
	require.EqualValues(t, 1, last["attempt"])
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestConvertStoppedMidRemuxResumes stops a conversion while ffmpeg writes
// (as a shutdown does): the VOD stays converting with its parts and no
// MP4, and the next run finishes it without a second start_convert.
func TestConvertStoppedMidRemuxResumes(t *testing.T) {
	t.Parallel()
	// An "ffmpeg" that writes part of its output, then hangs until stopped.
	hang := filepath.Join(t.TempDir(), "ffmpeg")
	require.NoError(t, os.WriteFile(hang, []byte("#!/bin/sh\nfor last; do :; done\necho partial > \"$last\"\nexec sleep 60\n"), 0o755))
	cb := setupConvert(t, convOpts{config: func(c *record.ConverterConfig) { c.FFmpegPath = hang }})
	v, dir := cb.capturedVOD(t, "kim", 2, true)
	cb.markConverting(t, v.ID)
	tmp := filepath.Join(dir, v.Basename+".mp4.tmp")

	ctx, cancel := context.WithCancel(cb.ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- cb.conv.Convert(ctx, v.ID, false) }()
	// No event marks "ffmpeg is writing"; its output file does.
	require.Eventually(t, func() bool { _, err := os.Stat(tmp); return err == nil }, convWait, 10*time.Millisecond)
	cancel()
	var err error
	select {
	case err = <-errc:
	case <-time.After(convWait):
		t.Fatal("Convert did not return after its context ended")
	}
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, record.ErrConvertFailed)

	got, err := cb.lib.GetVOD(cb.ctx, v.ID)
	require.NoError(t, err)
	require.Equal(t, record.StatusConverting, got.Status)
	require.NoFileExists(t, tmp)
	require.NoFileExists(t, filepath.Join(dir, v.Basename+".mp4"))
	require.FileExists(t, filepath.Join(dir, v.Basename+".part002.ts"))
	require.Equal(t, []event.Action{event.ActionStartConvert}, actionsOf(afterFirst(cb.vodEvents(t, v.ID), event.ActionStartConvert)))

	// The resumed job (a new process, with the real ffmpeg) finishes it.
	resumed := record.NewConverter(record.ConverterConfig{FFmpegPath: cb.ffmpeg, FFprobePath: cb.ffprobe}, cb.lib, cb.bus, nil)
	require.NoError(t, resumed.Convert(cb.ctx, v.ID, false))
	got, err = cb.lib.GetVOD(cb.ctx, v.ID)
	require.NoError(t, err)
	require.Equal(t, record.StatusFinalized, got.Status)
	require.Len(t, cb.probe(t, filepath.Join(dir, v.Basename+".mp4")).Chapters, 2)
	require.Equal(t, []event.Action{event.ActionStartConvert, event.ActionEndConvert, event.ActionVODUpdated, event.ActionEndDownload},
		actionsOf(afterFirst(cb.vodEvents(t, v.ID), event.ActionStartConvert)))
}

// TestConvertToleratesCutOffLastPacket converts a part whose capture was
// killed mid-write, ending in a cut-off AAC frame: a plain remux fails on
// it, the conversion must not.
func TestConvertToleratesCutOffLastPacket(t *testing.T) {
	t.Parallel()
	cb := setupConvert(t, convOpts{})
	v, dir := cb.capturedVOD(t, "lena", 2, true)
	cb.cutOffLastAudioFrame(t, filepath.Join(dir, v.Basename+".part001.ts"), filepath.Join(dir, v.Basename+".part002.ts"))
	cb.markConverting(t, v.ID)

	require.NoError(t, cb.conv.Convert(cb.ctx, v.ID, false))
	got, err := cb.lib.GetVOD(cb.ctx, v.ID)
	require.NoError(t, err)
	require.Equal(t, record.StatusFinalized, got.Status)
	require.Len(t, cb.probe(t, filepath.Join(dir, v.Basename+".mp4")).Chapters, 2)
}

// cutOffLastAudioFrame truncates an MPEG-TS file the way a killed capture
// leaves it: inside an AAC frame of an audio PES packet. It tries the ADTS
// frame starts of the audio packets, last first, and keeps the first cut
// on which a plain remux of path followed by next (concat, -c copy, MP4)
// fails, so the test proves the damage is of the kind that breaks one.
func (cb *convBundle) cutOffLastAudioFrame(t *testing.T, path, next string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var payloads []int // offsets of audio PES payloads
	for off := 0; off+188 <= len(data); off += 188 {
		p := data[off : off+188]
		pusi, afc := p[1]&0x40 != 0, p[3]>>4&3
		i := 4
		if afc&2 != 0 {
			i += 1 + int(p[4])
		}
		if pusi && afc&1 != 0 && i+9 < len(p) && p[i] == 0 && p[i+1] == 0 && p[i+2] == 1 && p[i+3] == 0xC0 {
			payloads = append(payloads, off+i+9+int(p[i+8]))
		}
	}
	require.NotEmpty(t, payloads, "no audio PES packets in %s", path)
	tmp := t.TempDir()
	cut := filepath.Join(tmp, "cut.ts")
	list, err := media.ConcatList([]string{cut, next})
	require.NoError(t, err)
	listPath := filepath.Join(tmp, "list.ffconcat")
	require.NoError(t, os.WriteFile(listPath, []byte(list), 0o644))
	for k := len(payloads) - 1; k >= 0; k-- {
		start := payloads[k]
		for pos := start + 1; pos+1 < len(data) && pos < start+1500; pos++ {
			if data[pos] != 0xFF || data[pos+1]&0xF6 != 0xF0 { // ADTS sync word
				continue
			}
			require.NoError(t, os.WriteFile(cut, data[:pos+4], 0o644))
			out := filepath.Join(tmp, "plain.mp4")
			_ = os.Remove(out)
			err := media.Run(cb.ctx, media.Cmd{Path: cb.ffmpeg, Args: []string{"-nostdin", "-loglevel", "error",
				"-f", "concat", "-safe", "0", "-i", listPath, "-map", "0:v?", "-map", "0:a?", "-c", "copy", "-f", "mp4", "-n", out}})
			if err != nil {
				require.NoError(t, os.WriteFile(path, data[:pos+4], 0o644))
				return
			}
		}
	}
	t.Fatalf("no cut of %s breaks a plain remux", path)
}
