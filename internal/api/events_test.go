package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/event"
)

// eventsBundle is the testBundle of the events resource; the name avoids
// clashing with other resources' bundles in this package.
type eventsBundle struct {
	bus *event.Bus
	url string
}

func setupEvents(t *testing.T) *eventsBundle {
	t.Helper()
	db := openDB(t)
	bus := event.NewBus(db, nil)
	return &eventsBundle{bus: bus, url: serve(t, api.NewEvents(db, bus))}
}

func (b *eventsBundle) list(t *testing.T, query string) api.EventPage {
	t.Helper()
	status, raw := doJSON(t, b.url, http.MethodGet, "/api/v1/events"+query, "")
	require.Equal(t, http.StatusOK, status, string(raw))
	var page api.EventPage
	require.NoError(t, json.Unmarshal(raw, &page))
	return page
}

func seqsOf(t *testing.T, items []json.RawMessage) []int64 {
	t.Helper()
	out := []int64{}
	for _, it := range items {
		var env event.Envelope
		require.NoError(t, json.Unmarshal(it, &env))
		out = append(out, env.Seq)
	}
	return out
}

func TestEventsList(t *testing.T) {
	t.Parallel()
	b := setupEvents(t)
	ctx := context.Background()
	var bodies [][]byte
	for i := range 5 {
		ev, err := b.bus.PublishNow(ctx, event.Notify{Title: "n" + strconv.Itoa(i), Category: "test"})
		require.NoError(t, err)
		bodies = append(bodies, ev.Body)
		ev, err = b.bus.PublishNow(ctx, event.Alert{Text: "a" + strconv.Itoa(i), Level: event.LevelWarning})
		require.NoError(t, err)
		bodies = append(bodies, ev.Body)
	}

	t.Run("everything, verbatim", func(t *testing.T) {
		t.Parallel()
		page := b.list(t, "")
		require.Equal(t, int64(10), page.LastSeq)
		require.Len(t, page.Items, 10)
		for i, it := range page.Items {
			require.Equal(t, string(bodies[i]), string(it))
		}
	})
	t.Run("after and limit", func(t *testing.T) {
		t.Parallel()
		page := b.list(t, "?after=3&limit=4")
		require.Equal(t, []int64{4, 5, 6, 7}, seqsOf(t, page.Items))
		require.Equal(t, int64(10), page.LastSeq)
	})
	t.Run("action filter, comma-separated", func(t *testing.T) {
		t.Parallel()
		page := b.list(t, "?action=alert")
		require.Equal(t, []int64{2, 4, 6, 8, 10}, seqsOf(t, page.Items))
		page = b.list(t, "?action=alert,notify&limit=3")
		require.Equal(t, []int64{1, 2, 3}, seqsOf(t, page.Items))
	})
	t.Run("action filter, repeated", func(t *testing.T) {
		t.Parallel()
		page := b.list(t, "?action=notify&action=log&after=5")
		require.Equal(t, []int64{7, 9}, seqsOf(t, page.Items))
	})
	t.Run("past the end", func(t *testing.T) {
		t.Parallel()
		status, raw := doJSON(t, b.url, http.MethodGet, "/api/v1/events?after=10", "")
		require.Equal(t, http.StatusOK, status)
		require.JSONEq(t, `{"items":[],"last_seq":10}`, string(raw))
	})
}

func TestEventsListRejectsBadQueries(t *testing.T) {
	t.Parallel()
	b := setupEvents(t)
	tests := []struct {
		query   string
		message string
	}{
		{"?action=end_capture,bogus", `query parameter action: unknown action "bogus"`},
		{"?action=notify&action=Notify", `query parameter action: unknown action "Notify"`},
		{"?limit=0", "query parameter limit must be between 1 and 1000, got 0"},
		{"?limit=1001", "query parameter limit must be between 1 and 1000, got 1001"},
		{"?limit=ten", `query parameter limit must be an integer, got "ten"`},
		{"?after=-1", "query parameter after must be a seq of 0 or more, got -1"},
		{"?after=x", `query parameter after must be an integer, got "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			status, raw := doJSON(t, b.url, http.MethodGet, "/api/v1/events"+tt.query, "")
			require.Equal(t, http.StatusBadRequest, status)
			var body api.ErrorBody
			require.NoError(t, json.Unmarshal(raw, &body))
			require.Equal(t, "invalid", body.Error.Code)
			require.Equal(t, tt.message, body.Error.Message)
		})
	}
}

func TestNotifyPublishes(t *testing.T) {
	t.Parallel()
	b := setupEvents(t)
	status, raw := doJSON(t, b.url, http.MethodPost, "/api/v1/notify",
		`{"title":"Backup done","body":"12 VODs copied","url":"https://example.org/report","tts":true}`)
	require.Equal(t, http.StatusAccepted, status, string(raw))
	var resp api.NotifyResponse
	require.NoError(t, json.Unmarshal(raw, &resp))
	require.Equal(t, int64(1), resp.Seq)
	require.True(t, strings.HasPrefix(resp.EventID, "evt_"))

	page := b.list(t, "?action=notify")
	require.Len(t, page.Items, 1)
	var env event.Envelope
	require.NoError(t, json.Unmarshal(page.Items[0], &env))
	require.Equal(t, resp.EventID, env.ID)
	var n event.Notify
	require.NoError(t, json.Unmarshal(env.Data, &n))
	require.Equal(t, event.Notify{Title: "Backup done", Body: "12 VODs copied", URL: "https://example.org/report", TTS: true, Category: "manual"}, n)

	status, raw = doJSON(t, b.url, http.MethodPost, "/api/v1/notify", `{"title":"Hi","category":"live"}`)
	require.Equal(t, http.StatusAccepted, status, string(raw))
	require.NoError(t, json.Unmarshal(raw, &resp))
	require.Equal(t, int64(2), resp.Seq)
}

func TestNotifyRejectsBadInput(t *testing.T) {
	t.Parallel()
	b := setupEvents(t)
	tests := []struct {
		name    string
		body    string
		status  int
		message string
	}{
		{"no title", `{"body":"x"}`, 400, "title is required"},
		{"blank title", `{"title":"   "}`, 400, "title is required"},
		{"long title", `{"title":"` + strings.Repeat("é", 201) + `"}`, 400, "title must be at most 200 characters, got 201"},
		{"long body", `{"title":"t","body":"` + strings.Repeat("b", 4001) + `"}`, 400, "body must be at most 4000 characters, got 4001"},
		{"long category", `{"title":"t","category":"` + strings.Repeat("c", 65) + `"}`, 400, "category must be at most 64 characters, got 65"},
		{"bad url", `{"title":"t","url":"ftp://x"}`, 400, `url must be an absolute http or https URL, got "ftp://x"`},
		{"relative icon", `{"title":"t","icon":"/a.png"}`, 400, `icon must be an absolute http or https URL, got "/a.png"`},
		{"unknown field", `{"title":"t","level":"x"}`, 400, `unknown field "level"`},
		{"wrong type", `{"title":5}`, 400, `field "title" must be string, got number`},
		{"not json", `title=x`, 400, ""},
		{"too large", `{"title":"t","body":"` + strings.Repeat("b", api.MaxBodyBytes) + `"}`, 413, ""},
	}
	for _, tt := range tests {
		// Not parallel: the check below must run after every subtest.
		t.Run(tt.name, func(t *testing.T) {
			status, raw := doJSON(t, b.url, http.MethodPost, "/api/v1/notify", tt.body)
			require.Equal(t, tt.status, status, string(raw))
			var body api.ErrorBody
			require.NoError(t, json.Unmarshal(raw, &body))
			if tt.message != "" {
				require.Equal(t, tt.message, body.Error.Message)
			}
		})
	}
	// Nothing was published.
	page := b.list(t, "")
	require.Empty(t, page.Items)
	require.Zero(t, page.LastSeq)
}
