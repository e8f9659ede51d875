package client

import (
	"context"
	"net/http"
	"strconv"

	"github.com/lsdvr/lsdvr/internal/dvr"
)

// RecordChannel asks the server to record a channel now. It returns the VOD
// being captured; the server answers a conflict when the channel is
// already being recorded or is offline, and unavailable when recording is
// disabled (no streamlink and no ffmpeg).
func (c *Client) RecordChannel(ctx context.Context, id int64) (*dvr.VOD, error) {
	var out dvr.VOD
	if err := c.Do(ctx, http.MethodPost, "/api/v1/channels/"+strconv.FormatInt(id, 10)+"/record", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
