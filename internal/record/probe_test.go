package record_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/hlstest"
	"github.com/lsdvr/lsdvr/internal/record"
)

// servePlaylists serves fixed answers by path on 127.0.0.1.
func servePlaylists(t *testing.T, answers map[string]func(w http.ResponseWriter)) string {
	t.Helper()
	mux := http.NewServeMux()
	for path, answer := range answers {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) { answer(w) })
	}
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

func answerWith(status int, text string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(text))
	}
}

const (
	livePlaylist  = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:2.0,\nseg7.ts\n#EXTINF:2.0,\nseg8.ts\n"
	endedPlaylist = livePlaylist + "#EXT-X-ENDLIST\n"
	masterList    = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nlow/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2000000\nhigh/index.m3u8\n"
)

// The playlist probe tells a live broadcast from a finished one, an
// offline channel and a broken server, and follows a master playlist.
func TestPlaylistProber(t *testing.T) {
	t.Parallel()
	base := servePlaylists(t, map[string]func(http.ResponseWriter){
		"/live.m3u8":           answerWith(http.StatusOK, livePlaylist),
		"/ended.m3u8":          answerWith(http.StatusOK, endedPlaylist),
		"/empty.m3u8":          answerWith(http.StatusOK, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"),
		"/gone.m3u8":           answerWith(http.StatusGone, "gone"),
		"/broken.m3u8":         answerWith(http.StatusInternalServerError, "oops"),
		"/html.m3u8":           answerWith(http.StatusOK, "<html>not a playlist</html>"),
		"/master.m3u8":         answerWith(http.StatusOK, masterList),
		"/low/index.m3u8":      answerWith(http.StatusOK, livePlaylist),
		"/endedmaster.m3u8":    answerWith(http.StatusOK, "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nvod/index.m3u8\n"),
		"/vod/index.m3u8":      answerWith(http.StatusOK, endedPlaylist),
		"/missingvariant.m3u8": answerWith(http.StatusOK, "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nnowhere.m3u8\n"),
	})
	p := &record.PlaylistProber{}
	for _, tc := range []struct {
		path    string
		live    bool
		reason  string
		errCode string
	}{
		{path: "/live.m3u8", live: true},
		{path: "/ended.m3u8", reason: "ENDLIST"},
		{path: "/empty.m3u8", reason: "no segments"},
		{path: "/nothing.m3u8", reason: "404"},
		{path: "/gone.m3u8", reason: "410"},
		{path: "/broken.m3u8", errCode: dvr.EUNAVAILABLE},
		{path: "/html.m3u8", errCode: dvr.EUNAVAILABLE},
		{path: "/master.m3u8", live: true},
		{path: "/endedmaster.m3u8", reason: "ENDLIST"},
		{path: "/missingvariant.m3u8", reason: "404"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			info, err := p.Probe(context.Background(), dvr.Channel{Name: "demo", URL: base + tc.path})
			if tc.errCode != "" {
				require.Error(t, err)
				require.Equal(t, tc.errCode, dvr.ErrorCode(err))
				require.Contains(t, err.Error(), "probe demo")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.live, info.Live)
			require.Contains(t, info.Reason, tc.reason)
			require.Equal(t, "hls", info.Plugin)
		})
	}
}

// streamlink --json says the test stream is live, and offline once its
// playlist answers 404.
func TestStreamlinkProber(t *testing.T) {
	t.Parallel()
	tools := findTools()
	require.True(t, tools.Streamlink.Found, tools.Streamlink.Error)
	stream := hlstest.Start(t, hlstest.Options{SegmentSeconds: 1, Segments: 30})
	p := &record.StreamlinkProber{Path: tools.Streamlink.Path, Version: tools.Streamlink.Version}
	ch := dvr.Channel{Name: "demo", URL: stream.URL()}

	info, err := p.Probe(context.Background(), ch)
	require.NoError(t, err)
	require.True(t, info.Live)
	require.Equal(t, "hls", info.Plugin)
	require.Contains(t, info.Qualities, "best")

	stream.SetOffline(true)
	info, err = p.Probe(context.Background(), ch)
	require.NoError(t, err)
	require.False(t, info.Live)
	require.Contains(t, info.Reason, "404")
}

func TestIsPlaylistURL(t *testing.T) {
	t.Parallel()
	for url, want := range map[string]bool{
		"https://cdn.example.com/live/index.m3u8":       true,
		"https://cdn.example.com/live/INDEX.M3U8?tok=1": true,
		"https://www.twitch.tv/someone":                 false,
		"https://example.com/watch?v=x.m3u8":            false,
		"://bad":                                        false,
	} {
		require.Equal(t, want, record.IsPlaylistURL(url), url)
	}
}

func TestPartName(t *testing.T) {
	t.Parallel()
	require.Equal(t, "demo_20261204T192000Z.part001.ts", record.PartName("demo_20261204T192000Z", 1))
	require.Equal(t, "demo_20261204T192000Z.part012.ts", record.PartName("demo_20261204T192000Z", 12))
	require.Equal(t, "demo_20261204T192000Z.part1000.ts", record.PartName("demo_20261204T192000Z", 1000))
}
