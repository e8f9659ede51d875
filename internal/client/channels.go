package client

import (
	"context"
	"net/http"
	"strconv"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/record"
)

// ChannelInput is the body of POST /api/v1/channels: the server's own
// type, so client and server cannot disagree on it.
type ChannelInput = record.ChannelParams

// ChannelPatch is the body of PATCH /api/v1/channels/{id}; nil fields are
// left as they are.
type ChannelPatch = record.ChannelPatch

// ListChannels returns every channel, by name.
func (c *Client) ListChannels(ctx context.Context) ([]dvr.Channel, error) {
	var out struct {
		Items []dvr.Channel `json:"items"`
	}
	if err := c.Do(ctx, http.MethodGet, "/api/v1/channels", nil, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// CreateChannel adds a channel and returns it as stored.
func (c *Client) CreateChannel(ctx context.Context, in ChannelInput) (*dvr.Channel, error) {
	var out dvr.Channel
	if err := c.Do(ctx, http.MethodPost, "/api/v1/channels", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetChannel returns one channel by id.
func (c *Client) GetChannel(ctx context.Context, id int64) (*dvr.Channel, error) {
	var out dvr.Channel
	if err := c.Do(ctx, http.MethodGet, "/api/v1/channels/"+strconv.FormatInt(id, 10), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateChannel changes a channel's settings and returns it as stored.
func (c *Client) UpdateChannel(ctx context.Context, id int64, p ChannelPatch) (*dvr.Channel, error) {
	var out dvr.Channel
	if err := c.Do(ctx, http.MethodPatch, "/api/v1/channels/"+strconv.FormatInt(id, 10), p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteChannel removes a channel; a channel with VODs needs deleteVODs,
// which deletes them and their files too.
func (c *Client) DeleteChannel(ctx context.Context, id int64, deleteVODs bool) error {
	path := "/api/v1/channels/" + strconv.FormatInt(id, 10)
	if deleteVODs {
		path += "?delete_vods=true"
	}
	return c.Do(ctx, http.MethodDelete, path, nil, nil)
}
