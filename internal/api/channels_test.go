package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/record"
	"github.com/lsdvr/lsdvr/internal/store"
)

var (
	_ api.ChannelLibrary = (*record.Library)(nil)
	_ api.VODLibrary     = (*record.Library)(nil)
)

// libraryBundle is the testBundle of the channels and VODs resources.
type libraryBundle struct {
	ctx     context.Context
	db      *store.DB
	lib     *record.Library
	storage string
	url     string
}

func setupLibrary(t *testing.T) *libraryBundle {
	t.Helper()
	db := openDB(t)
	storage := filepath.Join(t.TempDir(), "storage")
	lib := record.NewLibrary(db, event.NewBus(db, nil), storage, nil)
	url := serve(t, api.NewChannels(lib), api.NewVODs(lib))
	return &libraryBundle{ctx: context.Background(), db: db, lib: lib, storage: storage, url: url}
}

// eventCount is the number of events in the log.
func (b *libraryBundle) eventCount(t *testing.T) int64 {
	t.Helper()
	n, err := event.LastSeq(b.ctx, b.db.Read)
	require.NoError(t, err)
	return n
}

// demoVOD adds channel demo with one capturing VOD; finalized marks the VOD
// finalized afterwards, so that it may be deleted. It returns the VOD as
// created.
func (b *libraryBundle) demoVOD(t *testing.T, finalized bool) (dvr.Channel, dvr.VOD) {
	t.Helper()
	ch, err := b.lib.CreateChannel(b.ctx, record.ChannelParams{Name: "demo", URL: "http://a.test/"})
	require.NoError(t, err)
	v, err := b.lib.CreateVOD(b.ctx, record.CreateVODParams{ChannelID: ch.ID})
	require.NoError(t, err)
	if finalized {
		_, err = b.lib.UpdateVOD(b.ctx, v.ID, record.VODPatch{Status: ptr(record.StatusFinalized)})
		require.NoError(t, err)
	}
	return ch, v
}

func TestChannelsCRUD(t *testing.T) {
	t.Parallel()
	b := setupLibrary(t)

	status, raw := doJSON(t, b.url, http.MethodGet, "/api/v1/channels", "")
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"items":[]}`, string(raw))

	status, raw = doJSON(t, b.url, http.MethodPost, "/api/v1/channels",
		`{"name":"Demo","url":"http://127.0.0.1:9/live.m3u8","keep_last":3,"poll_interval_sec":30,"backend":"ffmpeg"}`)
	require.Equal(t, http.StatusCreated, status, string(raw))
	var ch dvr.Channel
	require.NoError(t, json.Unmarshal(raw, &ch))
	require.Equal(t, "demo", ch.Name)
	require.Equal(t, "stream", ch.Provider)
	require.Equal(t, "best", ch.Quality)
	require.Equal(t, "ffmpeg", ch.Backend)
	require.Equal(t, 30, ch.PollIntervalSec)
	require.Equal(t, 3, ch.KeepLast)
	require.True(t, ch.Enabled)

	path := "/api/v1/channels/" + itoa(ch.ID)
	status, raw = doJSON(t, b.url, http.MethodGet, path, "")
	require.Equal(t, http.StatusOK, status)
	var got dvr.Channel
	require.NoError(t, json.Unmarshal(raw, &got))
	require.Equal(t, ch, got)

	status, raw = doJSON(t, b.url, http.MethodPatch, path, `{"enabled":false,"quality":"720p"}`)
	require.Equal(t, http.StatusOK, status, string(raw))
	require.NoError(t, json.Unmarshal(raw, &got))
	require.False(t, got.Enabled)
	require.Equal(t, "720p", got.Quality)
	require.Equal(t, 30, got.PollIntervalSec, "absent fields are kept")

	status, raw = doJSON(t, b.url, http.MethodGet, "/api/v1/channels", "")
	require.Equal(t, http.StatusOK, status)
	var list struct{ Items []dvr.Channel }
	require.NoError(t, json.Unmarshal(raw, &list))
	require.Len(t, list.Items, 1)
	require.Equal(t, "720p", list.Items[0].Quality)

	status, _ = doJSON(t, b.url, http.MethodDelete, path, "")
	require.Equal(t, http.StatusNoContent, status)
	status, raw = doJSON(t, b.url, http.MethodGet, path, "")
	requireError(t, status, raw, http.StatusNotFound, "not_found", "not found")
	require.Equal(t, int64(3), b.eventCount(t), "create, update, delete: one channel_updated each")
}

func TestChannelsRejectBadInput(t *testing.T) {
	t.Parallel()
	b := setupLibrary(t)
	cases := []struct {
		method, path, body string
		status             int
		msg                string
	}{
		{"POST", "/api/v1/channels", `{"name":"../etc","url":"http://a.test/"}`, 400, "path separator"},
		{"POST", "/api/v1/channels", `{"name":"demo","url":"ftp://a.test/"}`, 400, "must start with http:// or https://"},
		{"POST", "/api/v1/channels", `{"name":"demo","url":"http://a.test/","poll_interval_sec":5}`, 400, "poll_interval_sec must be at least 15 seconds, got 5"},
		{"POST", "/api/v1/channels", `{"name":"demo","url":"http://a.test/","keep_last":"many"}`, 400, `field "keep_last" must be int`},
		{"POST", "/api/v1/channels", `{"name":"demo","url":"http://a.test/","root":"/"}`, 400, `unknown field "root"`},
		{"POST", "/api/v1/channels", `{"name":"demo",`, 400, "not valid JSON"},
		{"POST", "/api/v1/channels", ``, 400, "body is empty"},
		{"PATCH", "/api/v1/channels/1", `{"quality":"best"}`, 404, "channel 1 not found"},
		{"PATCH", "/api/v1/channels/abc", `{}`, 400, `id must be a positive integer, got "abc"`},
		{"GET", "/api/v1/channels/0", ``, 400, "id must be a positive integer"},
		{"DELETE", "/api/v1/channels/1?delete_vods=maybe", ``, 400, `delete_vods must be true or false, got "maybe"`},
	}
	for _, tc := range cases {
		status, raw := doJSON(t, b.url, tc.method, tc.path, tc.body)
		code := "invalid"
		if tc.status == 404 {
			code = "not_found"
		}
		requireError(t, status, raw, tc.status, code, tc.msg)
	}
	list, err := b.lib.ListChannels(b.ctx)
	require.NoError(t, err)
	require.Empty(t, list, "nothing is written on bad input")
	require.Zero(t, b.eventCount(t))
}

func TestDeleteChannelWithVODsNeedsFlag(t *testing.T) {
	t.Parallel()
	b := setupLibrary(t)
	ch, v := b.demoVOD(t, true)

	path := "/api/v1/channels/" + itoa(ch.ID)
	status, raw := doJSON(t, b.url, http.MethodDelete, path, "")
	requireError(t, status, raw, http.StatusConflict, "conflict", "delete them too with delete_vods=true")
	status, _ = doJSON(t, b.url, http.MethodDelete, path+"?delete_vods=true", "")
	require.Equal(t, http.StatusNoContent, status)
	_, err := b.lib.GetVOD(b.ctx, v.ID)
	require.True(t, dvr.IsNotFound(err))
}
