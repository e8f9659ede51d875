package record

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/lsdvr/lsdvr/internal/dvr"
)

// MaxNameLen is the longest channel name SanitizeName accepts, in bytes.
const MaxNameLen = 64

// maxSegmentLen bounds any single path segment we build (VOD basenames,
// file names); most filesystems stop at 255 bytes.
const maxSegmentLen = 200

// reservedNames are names that mean something else to a filesystem (Windows
// device names, which also break copies to such disks).
var reservedNames = map[string]bool{
	"con": true, "prn": true, "aux": true, "nul": true,
	"com1": true, "com2": true, "com3": true, "com4": true, "com5": true, "com6": true, "com7": true, "com8": true, "com9": true,
	"lpt1": true, "lpt2": true, "lpt3": true, "lpt4": true, "lpt5": true, "lpt6": true, "lpt7": true, "lpt8": true, "lpt9": true,
}

// SanitizeName checks a channel name and returns it lowercased. A name is 1
// to MaxNameLen characters of a-z, 0-9, '_', '-' and '.', does not start
// with a dot, does not contain "..", and is not a reserved device name.
// Only ASCII letters are lowercased: a non-ASCII rune is rejected even when
// its lowercase form is ASCII (the Kelvin sign lowercases to 'k'). Errors are
// EINVALID and say what is wrong and where.
func SanitizeName(name string) (string, error) {
	if name == "" {
		return "", dvr.Errorf(dvr.EINVALID, "name is required")
	}
	if len(name) > MaxNameLen {
		return "", dvr.Errorf(dvr.EINVALID, "name must be at most %d characters, got %d", MaxNameLen, len(name))
	}
	b := []byte(name)
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			b[i] = c + ('a' - 'A')
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-', c == '.':
		case c == '/' || c == '\\':
			return "", dvr.Errorf(dvr.EINVALID, "name must not contain a path separator (%q at byte %d)", c, i)
		case c < 0x20 || c == 0x7f:
			return "", dvr.Errorf(dvr.EINVALID, "name must not contain control characters (0x%02x at byte %d)", c, i)
		case c >= 0x80:
			return "", dvr.Errorf(dvr.EINVALID, "name must be ASCII: only a-z, 0-9, '_', '-' and '.' are allowed (non-ASCII byte at %d)", i)
		default:
			return "", dvr.Errorf(dvr.EINVALID, "name may only contain a-z, 0-9, '_', '-' and '.', got %q at byte %d", c, i)
		}
	}
	out := string(b)
	if out[0] == '.' {
		return "", dvr.Errorf(dvr.EINVALID, "name must not start with a dot")
	}
	if strings.Contains(out, "..") {
		return "", dvr.Errorf(dvr.EINVALID, `name must not contain ".."`)
	}
	stem, _, _ := strings.Cut(out, ".")
	if reservedNames[stem] {
		return "", dvr.Errorf(dvr.EINVALID, "name %q is reserved by filesystems", out)
	}
	return out, nil
}

// checkSegment checks one path segment built by lsdvr or given by a caller
// (a VOD basename, a file name): the channel-name alphabet plus upper case,
// no leading dot, no "..", bounded length. what names the field in errors.
func checkSegment(what, s string) error {
	if s == "" {
		return dvr.Errorf(dvr.EINVALID, "%s is required", what)
	}
	if len(s) > maxSegmentLen {
		return dvr.Errorf(dvr.EINVALID, "%s must be at most %d characters, got %d", what, maxSegmentLen, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
		if !ok {
			return dvr.Errorf(dvr.EINVALID, "%s may only contain letters, digits, '_', '-' and '.', got %q at byte %d", what, c, i)
		}
	}
	if s[0] == '.' {
		return dvr.Errorf(dvr.EINVALID, "%s must not start with a dot", what)
	}
	if strings.Contains(s, "..") {
		return dvr.Errorf(dvr.EINVALID, `%s must not contain ".."`, what)
	}
	return nil
}

// ChannelDir returns <storage>/<channel>, after proving that it stays inside
// storage even when symlinks on the way are followed. channel must already
// be a sanitised name. Errors are EINVALID for bad names and for paths that
// would escape storage.
func ChannelDir(storage, channel string) (string, error) {
	if clean, err := SanitizeName(channel); err != nil {
		return "", err
	} else if clean != channel {
		return "", dvr.Errorf(dvr.EINVALID, "channel name %q is not sanitised (want %q)", channel, clean)
	}
	return inside(storage, channel)
}

// VODDir returns <storage>/<channel>/<basename>, the folder of one VOD,
// after proving that it stays inside storage: both names are checked, the
// joined path must be below storage lexically, and the longest existing
// prefix, with its symlinks resolved, must still be below storage resolved.
// Errors are EINVALID.
func VODDir(storage, channel, basename string) (string, error) {
	if _, err := ChannelDir(storage, channel); err != nil {
		return "", err
	}
	if err := checkSegment("basename", basename); err != nil {
		return "", err
	}
	return inside(storage, channel, basename)
}

// inside joins elems below storage and proves the result cannot leave it.
func inside(storage string, elems ...string) (string, error) {
	if storage == "" {
		return "", errors.New("storage folder is not set")
	}
	root, err := filepath.Abs(storage)
	if err != nil {
		return "", fmt.Errorf("resolve storage folder: %w", err)
	}
	target := filepath.Join(append([]string{root}, elems...)...)
	if !within(root, target) {
		return "", dvr.Errorf(dvr.EINVALID, "path %q leaves the storage folder", filepath.Join(elems...))
	}
	realRoot, err := resolveExisting(root)
	if err != nil {
		return "", err
	}
	realTarget, err := resolveExisting(target)
	if err != nil {
		return "", err
	}
	if !within(realRoot, realTarget) {
		return "", dvr.Errorf(dvr.EINVALID, "path %q leads outside the storage folder through a symbolic link", filepath.Join(elems...))
	}
	return target, nil
}

// within reports whether path is root or below it; both must be absolute
// and clean.
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return false
	}
	return rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel))
}

// resolveExisting resolves the symlinks of the longest existing prefix of
// path (which must be absolute) and appends the part that does not exist yet.
func resolveExisting(path string) (string, error) {
	var rest []string
	cur := path
	for {
		real, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(append([]string{real}, rest...)...), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("resolve %s: %w", cur, err)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return path, nil
		}
		rest = append([]string{filepath.Base(cur)}, rest...)
		cur = parent
	}
}

// FilePath returns the absolute path of a VOD file given by its name
// relative to the VOD folder (sub-folders allowed, each segment checked).
// Errors are EINVALID.
func FilePath(storage, channel, basename, name string) (string, error) {
	if err := checkFileName(name); err != nil {
		return "", err
	}
	if _, err := VODDir(storage, channel, basename); err != nil {
		return "", err
	}
	return inside(storage, append([]string{channel, basename}, strings.Split(name, "/")...)...)
}

// checkFileName checks a VOD file name: relative, '/'-separated segments
// each passing checkSegment.
func checkFileName(name string) error {
	if name == "" {
		return dvr.Errorf(dvr.EINVALID, "file name is required")
	}
	if strings.HasPrefix(name, "/") {
		return dvr.Errorf(dvr.EINVALID, "file name %q must be relative to the VOD folder", name)
	}
	for _, seg := range strings.Split(name, "/") {
		if err := checkSegment(fmt.Sprintf("file name %q", name), seg); err != nil {
			return err
		}
	}
	return nil
}
