package client_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/store"
)

// serve runs h on 127.0.0.1 until the test ends and returns its base URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

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
