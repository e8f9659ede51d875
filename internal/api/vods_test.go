package api_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/record"
)

type vodPage struct {
	Items      []dvr.VOD `json:"items"`
	NextCursor string    `json:"next_cursor"`
}

func TestVODsListPagesAndFilters(t *testing.T) {
	t.Parallel()
	b := setupLibrary(t)
	a, err := b.lib.CreateChannel(b.ctx, record.ChannelParams{Name: "a", URL: "http://a.test/"})
	require.NoError(t, err)
	c, err := b.lib.CreateChannel(b.ctx, record.ChannelParams{Name: "c", URL: "http://c.test/"})
	require.NoError(t, err)
	start := time.Date(2026, 12, 4, 19, 0, 0, 0, time.UTC)
	var want []int64
	for i := range 5 {
		ch := a.ID
		if i%2 == 1 {
			ch = c.ID
		}
		v, err := b.lib.CreateVOD(b.ctx, record.CreateVODParams{ChannelID: ch, StartedAt: start.Add(time.Duration(i/2) * time.Hour)})
		require.NoError(t, err)
		want = append([]int64{v.ID}, want...)
	}
	_, err = b.lib.AddChapter(b.ctx, want[0], record.ChapterParams{Title: "Intro"})
	require.NoError(t, err)

	var got []int64
	path := "/api/v1/vods?limit=2"
	for {
		status, raw := doJSON(t, b.url, http.MethodGet, path, "")
		require.Equal(t, http.StatusOK, status, string(raw))
		var page vodPage
		require.NoError(t, json.Unmarshal(raw, &page))
		for _, v := range page.Items {
			got = append(got, v.ID)
		}
		if page.NextCursor == "" {
			break
		}
		path = "/api/v1/vods?limit=2&cursor=" + page.NextCursor
	}
	require.Equal(t, want, got)

	status, raw := doJSON(t, b.url, http.MethodGet, "/api/v1/vods?channel="+itoa(c.ID), "")
	require.Equal(t, http.StatusOK, status)
	var page vodPage
	require.NoError(t, json.Unmarshal(raw, &page))
	require.Len(t, page.Items, 2)
	for _, v := range page.Items {
		require.Equal(t, "c", v.ChannelName)
	}
	require.Empty(t, page.NextCursor)

	status, raw = doJSON(t, b.url, http.MethodGet, "/api/v1/vods/"+itoa(want[0]), "")
	require.Equal(t, http.StatusOK, status)
	var v dvr.VOD
	require.NoError(t, json.Unmarshal(raw, &v))
	require.Len(t, v.Chapters, 1)
	require.Equal(t, "Intro", v.Chapters[0].Title)
}

func TestVODsRejectBadInput(t *testing.T) {
	t.Parallel()
	b := setupLibrary(t)
	_, v := b.demoVOD(t, false)
	before := b.eventCount(t)
	path := "/api/v1/vods/" + itoa(v.ID)
	cases := []struct {
		method, path, body string
		status             int
		code, msg          string
	}{
		{"GET", "/api/v1/vods?limit=0", "", 400, "invalid", "limit must be between 1 and 500, got 0"},
		{"GET", "/api/v1/vods?limit=501", "", 400, "invalid", "limit must be between 1 and 500, got 501"},
		{"GET", "/api/v1/vods?limit=x", "", 400, "invalid", `limit must be an integer, got "x"`},
		{"GET", "/api/v1/vods?channel=-1", "", 400, "invalid", "channel must be a positive channel id"},
		{"GET", "/api/v1/vods?cursor=..%2F..", "", 400, "invalid", "is not valid; use next_cursor"},
		{"GET", "/api/v1/vods/999", "", 404, "not_found", "vod 999 not found"},
		{"GET", "/api/v1/vods/..%2F..%2Fetc", "", 400, "invalid", "id must be a positive integer"},
		{"PATCH", path, `{}`, 400, "invalid", "protected is required"},
		{"PATCH", path, `{"protected":"yes"}`, 400, "invalid", `field "protected" must be bool`},
		{"PATCH", path, `{"protected":true,"title":"x"}`, 400, "invalid", `unknown field "title"`},
		{"DELETE", path, "", 409, "conflict", "is capturing"},
		{"DELETE", "/api/v1/vods/999", "", 404, "not_found", "vod 999 not found"},
	}
	for _, tc := range cases {
		status, raw := doJSON(t, b.url, tc.method, tc.path, tc.body)
		requireError(t, status, raw, tc.status, tc.code, tc.msg)
	}
	got, err := b.lib.GetVOD(b.ctx, v.ID)
	require.NoError(t, err)
	require.Equal(t, v, got)
	require.Equal(t, before, b.eventCount(t), "nothing is published on bad input")
}

func TestVODsProtectAndDelete(t *testing.T) {
	t.Parallel()
	b := setupLibrary(t)
	_, v := b.demoVOD(t, true)
	dir, err := record.VODDir(b.storage, "demo", v.Basename)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "v.mp4"), []byte("mp4"), 0o644))

	path := "/api/v1/vods/" + itoa(v.ID)
	status, raw := doJSON(t, b.url, http.MethodPatch, path, `{"protected":true}`)
	require.Equal(t, http.StatusOK, status, string(raw))
	var got dvr.VOD
	require.NoError(t, json.Unmarshal(raw, &got))
	require.True(t, got.Protected)

	status, _ = doJSON(t, b.url, http.MethodDelete, path, "")
	require.Equal(t, http.StatusNoContent, status)
	require.NoDirExists(t, dir)
	status, _ = doJSON(t, b.url, http.MethodGet, path, "")
	require.Equal(t, http.StatusNotFound, status)

	evs, err := event.List(b.ctx, b.db.Read, event.ListParams{Actions: []event.Action{event.ActionVODRemoved}})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Contains(t, string(evs[0].Body), `"reason":"manual"`)
}
