package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func runDoctor(t *testing.T, asJSON bool, args ...string) (string, error) {
	t.Helper()
	cmd := newDoctorCmd(&globals{json: asJSON})
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut) // cobra's own "Error:" line; main prints errors
	cmd.SilenceUsage = true
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestDoctorFindsInstalledTools(t *testing.T) {
	t.Parallel()
	out, err := runDoctor(t, false)
	require.NoError(t, err)
	require.Regexp(t, `(?m)^ffmpeg\s+ok\s+\S+ \(/\S+/ffmpeg\)$`, out)
	require.Regexp(t, `(?m)^ffprobe\s+ok\s+\S+ \(/\S+/ffprobe\)$`, out)
	require.Regexp(t, `(?m)^streamlink\s+ok\s+\S+ \(/\S+/streamlink\)$`, out)
	require.Contains(t, out, "captures HLS and converts recordings to MP4")
}

func TestDoctorMissingRequiredToolFails(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, err := runDoctor(t, true, "--ffmpeg", filepath.Join(dir, "ffmpeg"), "--streamlink", filepath.Join(dir, "streamlink"))
	require.EqualError(t, err, "required tool missing: ffmpeg")

	var report doctorReport
	require.NoError(t, json.Unmarshal([]byte(out), &report))
	require.False(t, report.OK)
	require.Len(t, report.Tools, 3)
	ffmpeg, ffprobe, streamlink := report.Tools[0], report.Tools[1], report.Tools[2]
	require.Equal(t, "ffmpeg", ffmpeg.Name)
	require.False(t, ffmpeg.Found)
	require.True(t, ffmpeg.Required)
	require.Equal(t, "recording disabled until ffmpeg is installed: apt-get install ffmpeg", ffmpeg.Meaning)
	require.True(t, ffprobe.Found)
	require.False(t, streamlink.Found)
	require.False(t, streamlink.Required, "a missing streamlink only disables plugin-based capture")
	require.Contains(t, streamlink.Meaning, "apt-get install streamlink")
}

func TestDoctorWarnsAboutOldStreamlink(t *testing.T) {
	t.Parallel()
	fake := filepath.Join(t.TempDir(), "streamlink")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\necho 'streamlink 4.3.0'\n"), 0o755))
	out, err := runDoctor(t, false, "--streamlink", fake)
	require.NoError(t, err)
	require.Contains(t, out, "too old: lsdvr needs streamlink 5.0.0 or newer")
}
