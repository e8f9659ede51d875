package record_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/record"
)

func TestSanitizeName(t *testing.T) {
	t.Parallel()
	valid := map[string]string{
		"demo":                   "demo",
		"Demo_Channel-1.tv":      "demo_channel-1.tv",
		"a":                      "a",
		strings.Repeat("x", 64):  strings.Repeat("x", 64),
		"123":                    "123",
		"con-tent":               "con-tent",
		"nul_not_reserved_whole": "nul_not_reserved_whole",
	}
	for in, want := range valid {
		got, err := record.SanitizeName(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}

	invalid := []struct {
		in, msg string
	}{
		{"", "name is required"},
		{strings.Repeat("x", 65), "at most 64 characters, got 65"},
		{"../x", "must not contain a path separator"},
		{"/etc", "must not contain a path separator"},
		{"a/../../b", "must not contain a path separator"},
		{`a\b`, "must not contain a path separator"},
		{"..", "must not start with a dot"},
		{".hidden", "must not start with a dot"},
		{"a..b", `must not contain ".."`},
		{"%2e%2e", `got '%' at byte 0`},
		{"a\x00b", "control characters (0x00 at byte 1)"},
		{"a\nb", "control characters (0x0a at byte 1)"},
		{"a b", `got ' ' at byte 1`},
		{"\u212Aelvin", "must be ASCII"},            // Kelvin sign lowercases to 'k'
		{"\uff0e\uff0e", "must be ASCII"},           // fullwidth dots
		{"d\u0435mo", "must be ASCII"},              // Cyrillic e
		{"demo\u202e", "must be ASCII"},             // right-to-left override
		{"a\u2215b", "must be ASCII"},               // division slash
		{"con", `name "con" is reserved`},           // device names
		{"LPT1.txt", `name "lpt1.txt" is reserved`}, // even with an extension
		{"~root", `got '~' at byte 0`},
	}
	for _, tc := range invalid {
		_, err := record.SanitizeName(tc.in)
		require.Error(t, err, "%q", tc.in)
		require.Equal(t, dvr.EINVALID, dvr.ErrorCode(err), "%q", tc.in)
		require.Contains(t, err.Error(), tc.msg, "%q", tc.in)
	}
}

func TestVODDirRejectsHostileInputs(t *testing.T) {
	t.Parallel()
	storage := t.TempDir()

	dir, err := record.VODDir(storage, "demo", "demo_20261204T192000Z")
	require.NoError(t, err)
	require.Equal(t, filepath.Join(storage, "demo", "demo_20261204T192000Z"), dir)

	hostile := []string{
		"", "..", ".", "../x", "/etc", "a/../../b", "%2e%2e", "x\x00", "..\\..\\x",
		strings.Repeat("a", 300), "\u212A", "\uff0e\uff0e", "a b", "a/b", "/", "~", ".git",
	}
	for _, h := range hostile {
		_, err := record.VODDir(storage, h, "vod")
		require.Error(t, err, "channel %q", h)
		require.Equal(t, dvr.EINVALID, dvr.ErrorCode(err), "channel %q", h)
		_, err = record.VODDir(storage, "demo", h)
		require.Error(t, err, "basename %q", h)
		require.Equal(t, dvr.EINVALID, dvr.ErrorCode(err), "basename %q", h)
		if h != "a/b" { // sub-folders are fine for files
			_, err = record.FilePath(storage, "demo", "vod", h)
			require.Error(t, err, "file %q", h)
		}
	}
	// An upper-case channel name is not what SanitizeName produces, so it is
	// refused rather than silently mapped to another folder.
	_, err = record.VODDir(storage, "Demo", "vod")
	require.ErrorContains(t, err, `not sanitised (want "demo")`)

	entries, err := os.ReadDir(storage)
	require.NoError(t, err)
	require.Empty(t, entries, "checking paths creates nothing")
}

func TestVODDirRejectsSymlinkEscape(t *testing.T) {
	t.Parallel()
	storage := filepath.Join(t.TempDir(), "storage")
	outside := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(storage, "inner", "real"), 0o755))
	require.NoError(t, os.Symlink(outside, filepath.Join(storage, "evil")))
	require.NoError(t, os.Symlink(filepath.Join(storage, "inner"), filepath.Join(storage, "alias")))
	require.NoError(t, os.MkdirAll(filepath.Join(storage, "demo"), 0o755))
	require.NoError(t, os.Symlink(outside, filepath.Join(storage, "demo", "vod1")))

	_, err := record.VODDir(storage, "evil", "vod")
	require.ErrorContains(t, err, "symbolic link")
	_, err = record.VODDir(storage, "demo", "vod1")
	require.ErrorContains(t, err, "symbolic link")
	_, err = record.FilePath(storage, "demo", "vod1", "x.mp4")
	require.ErrorContains(t, err, "symbolic link")

	// A link that stays inside storage is fine.
	dir, err := record.VODDir(storage, "alias", "real")
	require.NoError(t, err)
	require.Equal(t, filepath.Join(storage, "alias", "real"), dir)

	// The storage folder itself may be reached through a link.
	linked := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(storage, linked))
	_, err = record.VODDir(linked, "alias", "real")
	require.NoError(t, err)
}

func TestFilePath(t *testing.T) {
	t.Parallel()
	storage := t.TempDir()
	p, err := record.FilePath(storage, "demo", "vod", "parts/part-001.ts")
	require.NoError(t, err)
	require.Equal(t, filepath.Join(storage, "demo", "vod", "parts", "part-001.ts"), p)

	for _, name := range []string{"/abs.mp4", "a//b", "parts/../../x", "parts/", "./x"} {
		_, err := record.FilePath(storage, "demo", "vod", name)
		require.Error(t, err, name)
		require.Equal(t, dvr.EINVALID, dvr.ErrorCode(err), name)
	}
}
