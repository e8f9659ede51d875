package media_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/media"
)

func TestParseVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, tool, output string
		want               media.Version
		wantErr            string
	}{
		{
			name: "debian ffmpeg", tool: "ffmpeg",
			output: "ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers\nbuilt with gcc 12 (Debian 12.2.0-14+deb12u1)\n",
			want:   media.Version{Major: 5, Minor: 1, Patch: 9, Raw: "5.1.9-0+deb12u1"},
		},
		{
			name: "debian ffprobe", tool: "ffprobe",
			output: "ffprobe version 5.1.9-0+deb12u1 Copyright (c) 2007-2026 the FFmpeg developers\n",
			want:   media.Version{Major: 5, Minor: 1, Patch: 9, Raw: "5.1.9-0+deb12u1"},
		},
		{
			name: "tagged ffmpeg build", tool: "ffmpeg",
			output: "ffmpeg version n6.1.1 Copyright (c) 2000-2023 the FFmpeg developers",
			want:   media.Version{Major: 6, Minor: 1, Patch: 1, Raw: "n6.1.1"},
		},
		{
			name: "two-part ffmpeg version", tool: "ffmpeg",
			output: "ffmpeg version 7.1 Copyright (c) 2000-2024 the FFmpeg developers",
			want:   media.Version{Major: 7, Minor: 1, Raw: "7.1"},
		},
		{
			name: "git ffmpeg build", tool: "ffmpeg",
			output: "ffmpeg version N-112233-gabcdef0123 Copyright (c) 2000-2025 the FFmpeg developers",
			want:   media.Version{Raw: "N-112233-gabcdef0123"},
		},
		{name: "streamlink 5", tool: "streamlink", output: "streamlink 5.2.1\n", want: media.Version{Major: 5, Minor: 2, Patch: 1, Raw: "5.2.1"}},
		{name: "streamlink 8", tool: "streamlink", output: "streamlink 8.1.2", want: media.Version{Major: 8, Minor: 1, Patch: 2, Raw: "8.1.2"}},
		{name: "streamlink dev", tool: "streamlink", output: "streamlink 6.7.4+3.g0123abc", want: media.Version{Major: 6, Minor: 7, Patch: 4, Raw: "6.7.4+3.g0123abc"}},
		{name: "wrong tool output", tool: "ffmpeg", output: "streamlink 5.2.1", wantErr: `parse ffmpeg version: unexpected output "streamlink 5.2.1"`},
		{name: "empty", tool: "streamlink", output: "", wantErr: `parse streamlink version: unexpected output ""`},
		{name: "unknown tool", tool: "vlc", output: "VLC 3", wantErr: `parse version: unknown tool "vlc"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := media.ParseVersion(tt.tool, tt.output)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestVersionAtLeast(t *testing.T) {
	t.Parallel()
	v := media.Version{Major: 5, Minor: 4, Patch: 0}
	require.True(t, v.AtLeast(5, 4, 0))
	require.True(t, v.AtLeast(5, 3, 9))
	require.True(t, v.AtLeast(4, 9, 9))
	require.False(t, v.AtLeast(5, 4, 1))
	require.False(t, v.AtLeast(6, 0, 0))
	require.True(t, media.Version{Raw: "N-1-gabc"}.AtLeast(99, 0, 0), "a git build is newer than any release")
	require.Equal(t, "5.4.0", v.String())
}
