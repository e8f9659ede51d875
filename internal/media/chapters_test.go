package media_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/media"
)

func TestFFMetadata(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		chapters []media.Chapter
		total    time.Duration
		want     string
	}{
		{name: "no chapters", total: time.Minute, want: ";FFMETADATA1\n"},
		{
			name: "ends at next start and total",
			chapters: []media.Chapter{
				{Start: 0, Title: "Just Chatting"},
				{Start: 90*time.Second + 500*time.Millisecond, Title: "Elden Ring"},
			},
			total: 5 * time.Minute,
			want: ";FFMETADATA1\n" +
				"\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=90500\ntitle=Just Chatting\n" +
				"\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=90500\nEND=300000\ntitle=Elden Ring\n",
		},
		{
			name:     "special characters are escaped",
			chapters: []media.Chapter{{Start: 0, Title: "a=b; #1 \\o/\nline2\r"}},
			total:    time.Second,
			want:     ";FFMETADATA1\n\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\ntitle=a\\=b\\; \\#1 \\\\o/\\\nline2\n",
		},
		{
			name: "unsorted input, chapter past the end dropped",
			chapters: []media.Chapter{
				{Start: 20 * time.Second, Title: "second"},
				{Start: 0, Title: "first"},
				{Start: 2 * time.Minute, Title: "after the end"},
			},
			total: time.Minute,
			want: ";FFMETADATA1\n" +
				"\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=20000\ntitle=first\n" +
				"\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=20000\nEND=60000\ntitle=second\n",
		},
		{
			name:     "unknown total ends the last chapter at its start",
			chapters: []media.Chapter{{Start: 0, Title: "a"}, {Start: 10 * time.Second, Title: "b"}},
			want: ";FFMETADATA1\n" +
				"\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=10000\ntitle=a\n" +
				"\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=10000\nEND=10000\ntitle=b\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, media.FFMetadata(tt.chapters, tt.total))
		})
	}
}

func TestWebVTTChapters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		chapters []media.Chapter
		total    time.Duration
		want     string
	}{
		{name: "none", total: time.Minute, want: "WEBVTT\n"},
		{
			name: "two chapters over an hour",
			chapters: []media.Chapter{
				{Start: 0, Title: "Intro & <setup>"},
				{Start: time.Hour + 2*time.Minute + 3*time.Second + 45*time.Millisecond, Title: "a --> b\nc"},
			},
			total: 2 * time.Hour,
			want: "WEBVTT\n" +
				"\n1\n00:00:00.000 --> 01:02:03.045\nIntro &amp; &lt;setup&gt;\n" +
				"\n2\n01:02:03.045 --> 02:00:00.000\na --&gt; b c\n",
		},
		{name: "empty title", chapters: []media.Chapter{{Title: " "}}, total: time.Second, want: "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.000\n-\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, media.WebVTTChapters(tt.chapters, tt.total))
		})
	}
}

func TestLosslessCutCSV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		chapters []media.Chapter
		total    time.Duration
		want     string
	}{
		{name: "none", total: time.Minute, want: ""},
		{
			name: "labels quoted when needed",
			chapters: []media.Chapter{
				{Start: 0, Title: "Just Chatting"},
				{Start: 1500 * time.Millisecond, Title: `Games, "retro"`},
				{Start: 61 * time.Second, Title: "two\nlines"},
			},
			total: 2 * time.Minute,
			want:  "0.000,1.500,Just Chatting\n1.500,61.000,\"Games, \"\"retro\"\"\"\n61.000,120.000,two lines\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, media.LosslessCutCSV(tt.chapters, tt.total))
		})
	}
}
