package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/record"
)

// VODPage is one page of VODs, newest first; NextCursor is "" on the last
// page. It is the server's own type.
type VODPage = record.VODPage

// ListVODsParams selects a page of VODs. Zero values mean: every channel,
// the server's default page size (50), the first page.
type ListVODsParams struct {
	ChannelID int64
	Limit     int
	Cursor    string
}

// ListVODs reads one page of VODs (GET /api/v1/vods).
func (c *Client) ListVODs(ctx context.Context, p ListVODsParams) (*VODPage, error) {
	q := url.Values{}
	if p.ChannelID > 0 {
		q.Set("channel", strconv.FormatInt(p.ChannelID, 10))
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	path := "/api/v1/vods"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var page VODPage
	if err := c.Do(ctx, http.MethodGet, path, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// GetVOD returns one VOD with its chapters and files.
func (c *Client) GetVOD(ctx context.Context, id int64) (*dvr.VOD, error) {
	var out dvr.VOD
	if err := c.Do(ctx, http.MethodGet, "/api/v1/vods/"+strconv.FormatInt(id, 10), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetVODProtected protects a VOD from retention (or lifts the protection).
func (c *Client) SetVODProtected(ctx context.Context, id int64, protected bool) (*dvr.VOD, error) {
	var out dvr.VOD
	body := struct {
		Protected bool `json:"protected"`
	}{protected}
	if err := c.Do(ctx, http.MethodPatch, "/api/v1/vods/"+strconv.FormatInt(id, 10), body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteVOD deletes a VOD and its files.
func (c *Client) DeleteVOD(ctx context.Context, id int64) error {
	return c.Do(ctx, http.MethodDelete, "/api/v1/vods/"+strconv.FormatInt(id, 10), nil, nil)
}
