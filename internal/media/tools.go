package media

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Tool names, as used by FindTools, ParseVersion and Tool.Name.
const (
	FFmpeg     = "ffmpeg"
	FFprobe    = "ffprobe"
	Streamlink = "streamlink"
)

// versionTimeout bounds each `--version` call: streamlink is a Python
// program and can take a second to start on a slow disk.
const versionTimeout = 15 * time.Second

// ToolPaths names the executables to use. An empty field means "look the
// tool up on PATH"; a set one is used as given (a bare name is still looked
// up on PATH).
type ToolPaths struct {
	FFmpeg     string `json:"ffmpeg,omitempty"`
	FFprobe    string `json:"ffprobe,omitempty"`
	Streamlink string `json:"streamlink,omitempty"`
}

// Tool is what FindTools learned about one executable.
type Tool struct {
	// Name is ffmpeg, ffprobe or streamlink.
	Name string `json:"name"`
	// Found is true when the executable exists and printed a version.
	Found bool `json:"found"`
	// Path is the resolved executable path, empty when not found.
	Path string `json:"path,omitempty"`
	// Version is the parsed version; zero when not found.
	Version Version `json:"version"`
	// Error says why the tool is unusable ("not found on PATH", a version
	// call that failed); empty when Found.
	Error string `json:"error,omitempty"`
}

// Tools is the result of FindTools.
type Tools struct {
	FFmpeg     Tool `json:"ffmpeg"`
	FFprobe    Tool `json:"ffprobe"`
	Streamlink Tool `json:"streamlink"`
}

// All returns the three tools in a fixed order: ffmpeg, ffprobe, streamlink.
func (t Tools) All() []Tool { return []Tool{t.FFmpeg, t.FFprobe, t.Streamlink} }

// FindTools resolves ffmpeg, ffprobe and streamlink (from paths, or PATH)
// and asks each for its version, concurrently. It never fails: a missing
// or broken tool has Found false and an Error saying why.
func FindTools(ctx context.Context, paths ToolPaths) Tools {
	var t Tools
	var wg sync.WaitGroup
	for _, job := range []struct {
		dst  *Tool
		name string
		path string
		flag string
	}{
		{&t.FFmpeg, FFmpeg, paths.FFmpeg, "-version"},
		{&t.FFprobe, FFprobe, paths.FFprobe, "-version"},
		{&t.Streamlink, Streamlink, paths.Streamlink, "--version"},
	} {
		wg.Go(func() { *job.dst = findTool(ctx, job.name, job.path, job.flag) })
	}
	wg.Wait()
	return t
}

func findTool(ctx context.Context, name, path, flag string) Tool {
	t := Tool{Name: name}
	if path == "" {
		path = name
	}
	resolved, err := exec.LookPath(path)
	if err != nil {
		if path == name {
			t.Error = fmt.Sprintf("%s not found on PATH", name)
		} else {
			t.Error = fmt.Sprintf("%s not found at %s: %v", name, path, err)
		}
		return t
	}
	t.Path = resolved
	ctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, resolved, flag)
	cmd.WaitDelay = time.Second
	out, err := cmd.Output()
	if err != nil {
		t.Error = fmt.Sprintf("%s %s: %v", resolved, flag, err)
		return t
	}
	v, err := ParseVersion(name, string(out))
	if err != nil {
		t.Error = err.Error()
		return t
	}
	t.Version = v
	t.Found = true
	return t
}

// Missing returns the names of the given tools that were not found.
func (t Tools) Missing(names ...string) []string {
	var missing []string
	for _, tool := range t.All() {
		for _, n := range names {
			if strings.EqualFold(n, tool.Name) && !tool.Found {
				missing = append(missing, tool.Name)
			}
		}
	}
	return missing
}
