package media_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/media"
)

// TestRemuxPartsWithChapters runs the conversion end to end with real
// ffmpeg and ffprobe: two MPEG-TS parts, as two capture processes leave
// them, become one MP4 with chapters that ffprobe verifies.
func TestRemuxPartsWithChapters(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	tools := media.FindTools(ctx, media.ToolPaths{})
	require.Empty(t, tools.Missing(media.FFmpeg, media.FFprobe))
	dir := t.TempDir()

	var parts []string
	for i := 1; i <= 2; i++ {
		part := filepath.Join(dir, fmt.Sprintf("it's part-%03d.ts", i))
		require.NoError(t, media.Run(ctx, media.Cmd{Path: tools.FFmpeg.Path, Args: []string{
			"-nostdin", "-hide_banner", "-loglevel", "error",
			"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-f", "lavfi", "-i", "sine=frequency=440",
			"-t", "1.5", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-f", "mpegts", "-n", part,
		}}))
		parts = append(parts, part)
	}
	list, err := media.ConcatList(parts)
	require.NoError(t, err)
	listPath := filepath.Join(dir, "parts.ffconcat")
	require.NoError(t, os.WriteFile(listPath, []byte(list), 0o644))
	total := 3 * time.Second
	chapters := []media.Chapter{{Start: 0, Title: "Just Chatting"}, {Start: time.Second, Title: "Games = fun; #1"}}
	chapPath := filepath.Join(dir, "chapters.txt")
	require.NoError(t, os.WriteFile(chapPath, []byte(media.FFMetadata(chapters, total)), 0o644))

	out := filepath.Join(dir, ".vod.mp4.tmp")
	args, err := media.RemuxArgs(media.RemuxOptions{List: listPath, Chapters: chapPath, Output: out})
	require.NoError(t, err)
	var last media.Progress
	require.NoError(t, media.Run(ctx, media.Cmd{Path: tools.FFmpeg.Path, Args: args, MustNotExist: []string{out},
		OnLine: func(stream, line string) { last, _ = media.ParseFFmpegProgress(line, last) }}))
	require.Equal(t, media.ProgressEnded, last.Kind)

	var stdout strings.Builder
	require.NoError(t, media.Run(ctx, media.Cmd{Path: tools.FFprobe.Path, Args: media.FFprobeArgs(out),
		OnLine: func(stream, line string) {
			if stream == media.Stdout {
				stdout.WriteString(line + "\n")
			}
		}}))
	res, err := media.ParseFFprobe([]byte(stdout.String()))
	require.NoError(t, err)
	require.Equal(t, "mov,mp4,m4a,3gp,3g2,mj2", res.Format)
	require.InDelta(t, total.Seconds(), res.Duration.Seconds(), 0.3)
	video, ok := res.Video()
	require.True(t, ok)
	require.Equal(t, 320, video.Width)
	_, ok = res.Audio()
	require.True(t, ok)
	require.Equal(t, []media.ProbeChapter{
		{Start: 0, End: time.Second, Title: "Just Chatting"},
		{Start: time.Second, End: total, Title: "Games = fun; #1"},
	}, res.Chapters)

	// The conversion never writes over an existing file.
	err = media.Run(ctx, media.Cmd{Path: tools.FFmpeg.Path, Args: args})
	var exitErr *media.ExitError
	require.ErrorAs(t, err, &exitErr)
	require.Contains(t, exitErr.Reason, "already exists")
}
