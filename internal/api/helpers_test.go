package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/store"
)

// openDB opens a fresh SQLite database in a temporary directory; it is
// closed when the test ends.
func openDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "lsdvr.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// quietLogger drops every record, so that test output shows only failures.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// serve runs an API server of resources on 127.0.0.1 until the test ends
// and returns its base URL.
func serve(t *testing.T, resources ...api.Resource) string {
	t.Helper()
	srv := httptest.NewServer(api.New(quietLogger(), resources...))
	t.Cleanup(srv.Close)
	return srv.URL
}

// doJSON sends body (raw JSON; empty for none) to url+path and returns the
// status and body of the answer.
func doJSON(t *testing.T, url, method, path, body string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url+path, r)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, raw
}

// requireError checks an error response's status, code and message.
func requireError(t *testing.T, status int, raw []byte, wantStatus int, code, msg string) {
	t.Helper()
	require.Equal(t, wantStatus, status, string(raw))
	var body api.ErrorBody
	require.NoError(t, json.Unmarshal(raw, &body))
	require.Equal(t, code, body.Error.Code)
	require.Contains(t, body.Error.Message, msg)
}

// itoa formats an id for a path.
func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func ptr[T any](v T) *T { return &v }
