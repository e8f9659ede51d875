package app

import (
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/config"
	"github.com/lsdvr/lsdvr/internal/dvr"
)

// In the configuration 0 turns jitter, the disable period and response
// logging off; in webhook.Config 0 means the default, so off must arrive
// as a negative value.
func TestWebhookConfigTurnsZeroIntoOff(t *testing.T) {
	t.Parallel()
	off := webhookConfig(config.WebhookSettings{Jitter: 0, DisableAfter: 0, ResponseLimit: 0, Timeout: time.Second}, nil)
	require.Negative(t, off.Jitter)
	require.Negative(t, off.DisableAfter)
	require.Negative(t, off.ResponseLimit)
	require.Equal(t, time.Second, off.Timeout)

	on := webhookConfig(config.WebhookSettings{Jitter: 0.2, DisableAfter: time.Hour, ResponseLimit: 10, Workers: 3, PerEndpoint: 2}, nil)
	require.Equal(t, 0.2, on.Jitter)
	require.Equal(t, time.Hour, on.DisableAfter)
	require.Equal(t, 10, on.ResponseLimit)
	require.Equal(t, 3, on.Workers)
	require.Equal(t, 2, on.PerEndpoint)
}

func TestBearerAuth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	open, err := config.Load(dir, "", nil)
	require.NoError(t, err)
	require.NoError(t, bearerAuth(open)(httptest.NewRequest("GET", "/api/v1/events", nil)), "no token: the API is open")

	cfg, err := config.Load(filepath.Join(dir, "x"), "", []string{"LSDVR_SERVER_TOKEN=right"})
	require.NoError(t, err)
	auth := bearerAuth(cfg)
	tests := []struct {
		name, header, query string
		ok                  bool
	}{
		{name: "header", header: "Bearer right", ok: true},
		{name: "query, for browsers' websockets", query: "?token=right", ok: true},
		{name: "missing"},
		{name: "wrong", header: "Bearer wrong"},
		{name: "not bearer", header: "Basic right"},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("GET", "/api/v1/ws"+tc.query, nil)
		if tc.header != "" {
			r.Header.Set("Authorization", tc.header)
		}
		err := auth(r)
		if tc.ok {
			require.NoError(t, err, tc.name)
		} else {
			require.Equal(t, dvr.EUNAUTHORIZED, dvr.ErrorCode(err), tc.name)
		}
	}
}
