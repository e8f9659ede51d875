package client

import (
	"context"
	"fmt"
	"github.com/lsdvr/lsdvr/internal/api"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/lsdvr/lsdvr/internal/webhook"
)

func webhookPath(id int64) string { return "/api/v1/webhooks/" + strconv.FormatInt(id, 10) }

// CreateWebhook adds a webhook endpoint. The returned endpoint carries its
// secret, which the server never shows again.
func (c *Client) CreateWebhook(ctx context.Context, p webhook.CreateParams) (*webhook.Endpoint, error) {
	var out webhook.Endpoint
	if err := c.Do(ctx, http.MethodPost, "/api/v1/webhooks", p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListWebhooks returns every webhook endpoint, without secrets.
func (c *Client) ListWebhooks(ctx context.Context) ([]*webhook.Endpoint, error) {
	var out struct {
		Items []*webhook.Endpoint `json:"items"`
	}
	if err := c.Do(ctx, http.MethodGet, "/api/v1/webhooks", nil, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// GetWebhook returns one endpoint, without its secret.
func (c *Client) GetWebhook(ctx context.Context, id int64) (*webhook.Endpoint, error) {
	var out webhook.Endpoint
	if err := c.Do(ctx, http.MethodGet, webhookPath(id), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateWebhook changes the fields set in p.
func (c *Client) UpdateWebhook(ctx context.Context, id int64, p webhook.UpdateParams) (*webhook.Endpoint, error) {
	var out webhook.Endpoint
	if err := c.Do(ctx, http.MethodPatch, webhookPath(id), p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteWebhook removes an endpoint with its pending deliveries.
func (c *Client) DeleteWebhook(ctx context.Context, id int64) error {
	return c.Do(ctx, http.MethodDelete, webhookPath(id), nil, nil)
}

// WebhookTestResult identifies the test event a TestWebhook call published.
type WebhookTestResult = api.WebhookTestResponse

// TestWebhook sends a notify test event to that endpoint only.
func (c *Client) TestWebhook(ctx context.Context, id int64) (*WebhookTestResult, error) {
	var out WebhookTestResult
	if err := c.Do(ctx, http.MethodPost, webhookPath(id)+"/test", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RotateWebhook gives the endpoint a new secret (p.Secret, or a generated
// one) and returns the endpoint with it; the old one keeps signing for the
// grace period (default 24 h).
func (c *Client) RotateWebhook(ctx context.Context, id int64, p webhook.RotateParams) (*webhook.Endpoint, error) {
	var out webhook.Endpoint
	if err := c.Do(ctx, http.MethodPost, webhookPath(id)+"/rotate", p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// WebhookAttempts returns the endpoint's attempt log, newest first: up to
// limit attempts (0: the server's default, 100) with ids below before (0:
// from the newest).
func (c *Client) WebhookAttempts(ctx context.Context, id int64, limit int, before int64) ([]*webhook.Attempt, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	path := webhookPath(id) + "/deliveries"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out struct {
		Items []*webhook.Attempt `json:"items"`
	}
	if err := c.Do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// ReplayDelivery delivers the event of a delivery again and returns the new
// delivery.
func (c *Client) ReplayDelivery(ctx context.Context, deliveryID int64) (*webhook.Delivery, error) {
	var out webhook.Delivery
	path := fmt.Sprintf("/api/v1/deliveries/%d/replay", deliveryID)
	if err := c.Do(ctx, http.MethodPost, path, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ReplayFailedWebhooks replays every failed delivery of the endpoint created
// since then and returns how many it replayed.
func (c *Client) ReplayFailedWebhooks(ctx context.Context, endpointID int64, since time.Time) (int, error) {
	var out struct {
		Replayed int `json:"replayed"`
	}
	in := map[string]string{"since": since.UTC().Format(time.RFC3339Nano)}
	if err := c.Do(ctx, http.MethodPost, webhookPath(endpointID)+"/replay", in, &out); err != nil {
		return 0, err
	}
	return out.Replayed, nil
}
