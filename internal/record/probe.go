package record

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/media"
)

// DefaultProbeTimeout bounds one liveness probe (a playlist GET or a
// `streamlink --json` run).
const DefaultProbeTimeout = 30 * time.Second

// maxPlaylistBytes bounds a playlist read by PlaylistProber; a live media
// playlist is a few kilobytes.
const maxPlaylistBytes = 4 << 20

// Prober tells whether a channel is live and what it is streaming. The
// Recorder probes every enabled channel each poll interval, and a channel
// being captured every metadata interval, to follow title and category
// changes. An error means "unknown", never "offline": the caller keeps the
// state it had.
type Prober interface {
	Probe(ctx context.Context, ch dvr.Channel) (media.StreamInfo, error)
}

// ProberFunc adapts a function to Prober.
type ProberFunc func(ctx context.Context, ch dvr.Channel) (media.StreamInfo, error)

// Probe calls f.
func (f ProberFunc) Probe(ctx context.Context, ch dvr.Channel) (media.StreamInfo, error) {
	return f(ctx, ch)
}

var (
	_ Prober = ProberFunc(nil)
	_ Prober = (*StreamlinkProber)(nil)
	_ Prober = (*PlaylistProber)(nil)
)

// IsPlaylistURL reports whether raw addresses an HLS playlist directly (its
// path ends in .m3u8), which PlaylistProber probes without streamlink.
func IsPlaylistURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	return strings.HasSuffix(strings.ToLower(u.Path), ".m3u8")
}

// StreamlinkProber probes platform URLs with `streamlink --json URL`: live
// when streamlink lists streams, with the plugin's title and category.
type StreamlinkProber struct {
	// Path is the streamlink executable. Required.
	Path string
	// Version is the detected streamlink version (media.FindTools).
	Version media.StreamlinkVersion
	// Timeout bounds one run. Default DefaultProbeTimeout.
	Timeout time.Duration
}

// Probe runs `streamlink --json` on ch.URL. Offline answers (no playable
// stream, a 404 or 410 playlist) are Live false with a Reason; a URL no
// plugin handles is EINVALID; other streamlink errors are EUNAVAILABLE.
func (p *StreamlinkProber) Probe(ctx context.Context, ch dvr.Channel) (media.StreamInfo, error) {
	args, err := media.StreamlinkJSONArgs(p.Version, ch.URL)
	if err != nil {
		return media.StreamInfo{}, err
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out strings.Builder
	runErr := media.Run(ctx, media.Cmd{
		Path:  p.Path,
		Args:  args,
		Grace: 2 * time.Second,
		OnLine: func(stream, line string) {
			if stream == media.Stdout {
				out.WriteString(line)
				out.WriteByte('\n')
			}
		},
	})
	// streamlink exits 1 when it reports an error, and says why as JSON.
	info, err := media.ParseStreamlinkJSON([]byte(out.String()))
	if err != nil {
		if runErr != nil {
			return media.StreamInfo{}, fmt.Errorf("probe %s: %w", ch.Name, runErr)
		}
		return media.StreamInfo{}, fmt.Errorf("probe %s: %w", ch.Name, err)
	}
	return info, nil
}

// PlaylistProber probes a plain HLS URL with one GET of its playlist: live
// when it answers 200 with segments and no #EXT-X-ENDLIST. A playlist with
// ENDLIST is a finished VOD, not a broadcast, and reads as offline; so do
// 404 and 410. A master playlist is live when its first variant is.
type PlaylistProber struct {
	// Client makes the requests. Default http.DefaultClient.
	Client *http.Client
	// Timeout bounds one probe. Default DefaultProbeTimeout.
	Timeout time.Duration
}

// Probe fetches ch.URL. Errors (EUNAVAILABLE) are transport failures,
// unexpected statuses and bodies that are not playlists.
func (p *PlaylistProber) Probe(ctx context.Context, ch dvr.Channel) (media.StreamInfo, error) {
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	info, variant, err := p.fetch(ctx, ch.URL)
	if err == nil && variant != "" {
		info, _, err = p.fetch(ctx, variant)
	}
	if err != nil {
		return media.StreamInfo{}, fmt.Errorf("probe %s: %w", ch.Name, err)
	}
	info.Plugin = "hls"
	return info, nil
}

// fetch GETs one playlist. For a master playlist it returns the absolute
// URL of the first variant to fetch next.
func (p *PlaylistProber) fetch(ctx context.Context, raw string) (media.StreamInfo, string, error) {
	client := p.Client
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return media.StreamInfo{}, "", dvr.Errorf(dvr.EINVALID, "playlist url %q: %v", raw, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return media.StreamInfo{}, "", dvr.Errorf(dvr.EUNAVAILABLE, "get playlist: %v", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return media.StreamInfo{Live: false, Reason: fmt.Sprintf("playlist answered %s", resp.Status)}, "", nil
	case resp.StatusCode != http.StatusOK:
		return media.StreamInfo{}, "", dvr.Errorf(dvr.EUNAVAILABLE, "get playlist: unexpected status %s", resp.Status)
	}
	pl, err := parsePlaylist(io.LimitReader(resp.Body, maxPlaylistBytes))
	if err != nil {
		return media.StreamInfo{}, "", dvr.Errorf(dvr.EUNAVAILABLE, "read playlist: %v", err)
	}
	if pl.variant != "" {
		ref, err := url.Parse(pl.variant)
		if err != nil {
			return media.StreamInfo{}, "", dvr.Errorf(dvr.EUNAVAILABLE, "master playlist variant %q: %v", pl.variant, err)
		}
		return media.StreamInfo{}, resp.Request.URL.ResolveReference(ref).String(), nil
	}
	switch {
	case pl.ended:
		return media.StreamInfo{Live: false, Reason: "playlist has ended (#EXT-X-ENDLIST)"}, "", nil
	case pl.segments == 0:
		return media.StreamInfo{Live: false, Reason: "playlist has no segments"}, "", nil
	}
	return media.StreamInfo{Live: true, Qualities: []string{"live", "best"}}, "", nil
}

// playlist is what a probe needs to know of an M3U8 file.
type playlist struct {
	segments int    // media segments listed
	ended    bool   // #EXT-X-ENDLIST present
	variant  string // first variant URI of a master playlist
}

// parsePlaylist reads an M3U8 playlist; the first line must be #EXTM3U.
func parsePlaylist(r io.Reader) (playlist, error) {
	var pl playlist
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	first, streamInf := true, false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if first {
			line = strings.TrimPrefix(line, "\ufeff")
			if line != "#EXTM3U" {
				return playlist{}, errors.New("not an M3U8 playlist (no #EXTM3U header)")
			}
			first = false
			continue
		}
		switch {
		case line == "":
		case strings.HasPrefix(line, "#EXT-X-ENDLIST"):
			pl.ended = true
		case strings.HasPrefix(line, "#EXT-X-STREAM-INF"):
			streamInf = true
		case strings.HasPrefix(line, "#"):
		case streamInf:
			if pl.variant == "" {
				pl.variant = line
			}
			streamInf = false
		default:
			pl.segments++
		}
	}
	if err := sc.Err(); err != nil {
		return playlist{}, err
	}
	if first {
		return playlist{}, errors.New("empty playlist")
	}
	return pl, nil
}
