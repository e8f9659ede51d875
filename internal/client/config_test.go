package client_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/client"
	"github.com/lsdvr/lsdvr/internal/config"
	"github.com/lsdvr/lsdvr/internal/event"
)

func setupConfigServer(t *testing.T, environ ...string) *client.Client {
	t.Helper()
	cfg, err := config.Load(t.TempDir(), "", environ)
	require.NoError(t, err)
	db := openDB(t)
	srv := api.New(quietLogger(), api.NewConfigResource(cfg, event.NewBus(db, nil)))
	c, err := client.New(serve(t, srv), "")
	require.NoError(t, err)
	return c
}

func TestClientConfig(t *testing.T) {
	t.Parallel()
	c := setupConfigServer(t, "LSDVR_TWITCH_CLIENT_SECRET=very-secret", "LSDVR_LOG_LEVEL=debug")
	ctx := context.Background()

	view, err := c.Config(ctx)
	require.NoError(t, err)
	require.Equal(t, "********", view.Config["twitch.client_secret"])
	require.Equal(t, config.SourceEnv, view.Sources["log.level"])
	require.NotEmpty(t, view.Options)
	require.Equal(t, "LSDVR_LOG_LEVEL", view.Options[3].Env)

	upd, err := c.SetConfig(ctx, map[string]any{"webhook.timeout": "30s", "notify.categories": []string{"live"}})
	require.NoError(t, err)
	require.Equal(t, []string{"notify.categories", "webhook.timeout"}, upd.Changed)
	require.Equal(t, []string{"notify.categories"}, upd.RestartRequired)
	require.Equal(t, "30s", upd.Config["webhook.timeout"])

	_, err = c.SetConfig(ctx, map[string]any{"log.level": "warn"})
	var apiErr *client.APIError
	require.True(t, errors.As(err, &apiErr))
	require.Equal(t, 409, apiErr.Status)
	require.Equal(t, "log.level is set by the environment variable LSDVR_LOG_LEVEL and cannot be changed here", apiErr.Message)
}
