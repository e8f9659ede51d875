package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/store"
)

// The helpers here serve the in-process CLI tests; the end-to-end tests run
// the built binary through harness_test.go instead.

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

// serveHTTP runs h on 127.0.0.1 until the test ends and returns its base URL.
func serveHTTP(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// serveAPI runs an API server of resources on 127.0.0.1 until the test ends
// and returns its base URL.
func serveAPI(t *testing.T, resources ...api.Resource) string {
	t.Helper()
	return serveHTTP(t, api.New(quietLogger(), resources...))
}

// execCLI runs lsdvr in process against the server at url until it returns
// or ctx ends.
func execCLI(ctx context.Context, url string, stdout, stderr io.Writer, args ...string) error {
	root := newRootCmd(nil)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetArgs(append([]string{"--server", url}, args...))
	return root.ExecuteContext(ctx)
}

// cliServer is the API server a CLI test runs lsdvr against; test bundles
// embed it.
type cliServer struct {
	url string
}

// run runs lsdvr in process against the server and returns its stdout.
func (s cliServer) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, _, err := s.runWithStderr(t, args...)
	return out, err
}

// runWithStderr is run that also returns what lsdvr printed to stderr.
func (s cliServer) runWithStderr(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := execCLI(context.Background(), s.url, &out, &errOut, args...)
	return out.String(), errOut.String(), err
}

// itoa formats an id as a command-line argument.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
