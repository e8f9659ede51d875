package media

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a tool's version as printed by `ffmpeg -version`,
// `ffprobe -version` or `streamlink --version`. Raw is the version token as
// printed; Major, Minor and Patch are 0 when the token has no numeric form
// (ffmpeg git builds print "N-112233-gabcdef").
type Version struct {
	Major int    `json:"major"`
	Minor int    `json:"minor"`
	Patch int    `json:"patch"`
	Raw   string `json:"raw"`
}

// StreamlinkVersion is the version of the streamlink executable the argv
// builders target; see the package documentation for what differs.
type StreamlinkVersion = Version

// Known reports whether the version has a numeric form.
func (v Version) Known() bool { return v.Major != 0 || v.Minor != 0 || v.Patch != 0 }

// AtLeast reports whether v is major.minor.patch or newer. An unknown
// version (a git build) counts as newer than anything, since such builds
// track the development branch.
func (v Version) AtLeast(major, minor, patch int) bool {
	if !v.Known() {
		return true
	}
	if v.Major != major {
		return v.Major > major
	}
	if v.Minor != minor {
		return v.Minor > minor
	}
	return v.Patch >= patch
}

// String returns the raw token, or major.minor.patch when Raw is empty.
func (v Version) String() string {
	if v.Raw != "" {
		return v.Raw
	}
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// ParseVersion parses the first line of a tool's version output. tool is
// "ffmpeg", "ffprobe" or "streamlink". It returns an error naming the tool
// when the output does not look like that tool's version banner.
func ParseVersion(tool, output string) (Version, error) {
	line, _, _ := strings.Cut(strings.TrimSpace(output), "\n")
	line = strings.TrimSpace(line)
	var token string
	switch tool {
	case "ffmpeg", "ffprobe":
		// "ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers"
		rest, ok := strings.CutPrefix(line, tool+" version ")
		if !ok {
			return Version{}, fmt.Errorf("parse %s version: unexpected output %q", tool, truncate(line, 80))
		}
		token, _, _ = strings.Cut(rest, " ")
	case "streamlink":
		// "streamlink 5.2.1" or "streamlink 6.7.4+3.g0123abc"
		rest, ok := strings.CutPrefix(line, "streamlink ")
		if !ok {
			return Version{}, fmt.Errorf("parse streamlink version: unexpected output %q", truncate(line, 80))
		}
		token = strings.TrimSpace(rest)
	default:
		return Version{}, fmt.Errorf("parse version: unknown tool %q", tool)
	}
	if token == "" {
		return Version{}, fmt.Errorf("parse %s version: no version in %q", tool, truncate(line, 80))
	}
	v := Version{Raw: token}
	// Release builds of ffmpeg from git tags print "n6.1.1".
	num := strings.TrimPrefix(token, "n")
	parts := strings.SplitN(num, ".", 3)
	for i, p := range parts {
		p = leadingDigits(p)
		if p == "" {
			break
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return Version{}, fmt.Errorf("parse %s version %q: %w", tool, token, err)
		}
		switch i {
		case 0:
			v.Major = n
		case 1:
			v.Minor = n
		case 2:
			v.Patch = n
		}
		if len(p) != len(parts[i]) {
			break // "1-0+deb12u1": the rest is a distribution suffix
		}
	}
	return v, nil
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
