package client

import (
	"context"
	"github.com/lsdvr/lsdvr/internal/api"
	"net/http"
)

// ConfigView is the server's configuration (GET /api/v1/config): values
// with secrets shown as "********", where each came from (default, file or
// env), and the options. It is the server's own type.
type ConfigView = api.ConfigView

// ConfigUpdate is the result of SetConfig: the keys that changed, those of
// them that need a restart, and the whole configuration, redacted.
type ConfigUpdate = api.ConfigUpdate

// Config reads the configuration (GET /api/v1/config).
func (c *Client) Config(ctx context.Context) (*ConfigView, error) {
	var v ConfigView
	if err := c.Do(ctx, http.MethodGet, "/api/v1/config", nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// SetConfig changes the given keys (PUT /api/v1/config): durations as
// strings such as "30s", lists as []string, nil to reset a key to its
// default. Nothing is saved when any key is unknown (HTTP 400), set by the
// server's environment (409) or invalid (400); the *APIError says which.
func (c *Client) SetConfig(ctx context.Context, changes map[string]any) (*ConfigUpdate, error) {
	var u ConfigUpdate
	if err := c.Do(ctx, http.MethodPut, "/api/v1/config", changes, &u); err != nil {
		return nil, err
	}
	return &u, nil
}
