package media_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/media"
)

func TestFindToolsOnPath(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tools := media.FindTools(ctx, media.ToolPaths{})
	for _, tool := range []media.Tool{tools.FFmpeg, tools.FFprobe} {
		require.True(t, tool.Found, "%s: %s", tool.Name, tool.Error)
		require.True(t, filepath.IsAbs(tool.Path))
		require.GreaterOrEqual(t, tool.Version.Major, 4, tool.Name)
		require.Empty(t, tool.Error)
	}
	require.Empty(t, tools.Missing(media.FFmpeg, media.FFprobe))
	require.Equal(t, []string{"ffmpeg", "ffprobe", "streamlink"}, []string{tools.All()[0].Name, tools.All()[1].Name, tools.All()[2].Name})
}

func TestFindToolsExplicitPaths(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	// A stand-in streamlink 8 shows that the version comes from the tool.
	fake := filepath.Join(dir, "streamlink")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\necho 'streamlink 8.1.2'\n"), 0o755))
	broken := filepath.Join(dir, "ffprobe")
	require.NoError(t, os.WriteFile(broken, []byte("#!/bin/sh\necho 'not a probe'\n"), 0o755))

	tools := media.FindTools(ctx, media.ToolPaths{
		FFmpeg:     filepath.Join(dir, "missing-ffmpeg"),
		FFprobe:    broken,
		Streamlink: fake,
	})
	require.False(t, tools.FFmpeg.Found)
	require.Contains(t, tools.FFmpeg.Error, "ffmpeg not found at "+filepath.Join(dir, "missing-ffmpeg"))
	require.False(t, tools.FFprobe.Found)
	require.Equal(t, `parse ffprobe version: unexpected output "not a probe"`, tools.FFprobe.Error)
	require.True(t, tools.Streamlink.Found)
	require.Equal(t, fake, tools.Streamlink.Path)
	require.Equal(t, media.Version{Major: 8, Minor: 1, Patch: 2, Raw: "8.1.2"}, tools.Streamlink.Version)
	require.Equal(t, []string{"ffmpeg", "ffprobe"}, tools.Missing(media.FFmpeg, media.FFprobe, media.Streamlink))
}

func TestFindToolsNotOnPath(t *testing.T) {
	// Not parallel: t.Setenv changes the whole process's PATH.
	t.Setenv("PATH", t.TempDir())
	tools := media.FindTools(context.Background(), media.ToolPaths{})
	for _, tool := range tools.All() {
		require.False(t, tool.Found)
		require.Equal(t, tool.Name+" not found on PATH", tool.Error)
	}
}

func TestFreeBytes(t *testing.T) {
	t.Parallel()
	free, err := media.FreeBytes(t.TempDir())
	require.NoError(t, err)
	require.Positive(t, free)
	_, err = media.FreeBytes(filepath.Join(t.TempDir(), "missing"))
	require.ErrorContains(t, err, "statfs ")
}
