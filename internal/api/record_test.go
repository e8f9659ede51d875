package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/dvr"
)

// recorderFake is an api.ChannelRecorder answering through RecordNowFunc.
type recorderFake struct {
	RecordNowFunc func(ctx context.Context, channelID int64) (dvr.VOD, error)
}

var _ api.ChannelRecorder = (*recorderFake)(nil)

func (f *recorderFake) RecordNow(ctx context.Context, channelID int64) (dvr.VOD, error) {
	return f.RecordNowFunc(ctx, channelID)
}

// The record-now route answers 202 with the VOD, and maps the recorder's
// refusals to 404, 409 and 503 with its message.
func TestRecordRoute(t *testing.T) {
	t.Parallel()
	started := time.Date(2026, 12, 4, 19, 20, 0, 0, time.UTC)
	base := serve(t, api.NewRecord(&recorderFake{RecordNowFunc: func(_ context.Context, id int64) (dvr.VOD, error) {
		switch id {
		case 1:
			return dvr.VOD{ID: 7, Basename: "demo_20261204T192000Z", ChannelID: 1, ChannelName: "demo", Status: "capturing", StartedAt: started}, nil
		case 2:
			return dvr.VOD{}, dvr.Errorf(dvr.ECONFLICT, "channel demo is already being recorded (vod 7, demo_20261204T192000Z)")
		case 3:
			return dvr.VOD{}, dvr.Errorf(dvr.ECONFLICT, "channel is offline: playlist answered 404 Not Found")
		case 4:
			return dvr.VOD{}, dvr.Errorf(dvr.EUNAVAILABLE, "recording is disabled: neither streamlink nor ffmpeg is available")
		}
		return dvr.VOD{}, dvr.Errorf(dvr.ENOTFOUND, "channel %d not found", id)
	}}))
	post := func(path string) (int, []byte) {
		return doJSON(t, base, http.MethodPost, path, "")
	}

	status, raw := post("/api/v1/channels/1/record")
	require.Equal(t, http.StatusAccepted, status, string(raw))
	var v dvr.VOD
	require.NoError(t, json.Unmarshal(raw, &v))
	require.Equal(t, int64(7), v.ID)
	require.Equal(t, "capturing", v.Status)

	status, raw = post("/api/v1/channels/2/record")
	requireError(t, status, raw, http.StatusConflict, "conflict", "already being recorded")
	status, raw = post("/api/v1/channels/3/record")
	requireError(t, status, raw, http.StatusConflict, "conflict", "channel is offline")
	status, raw = post("/api/v1/channels/4/record")
	requireError(t, status, raw, http.StatusServiceUnavailable, "unavailable", "recording is disabled")
	status, raw = post("/api/v1/channels/99/record")
	requireError(t, status, raw, http.StatusNotFound, "not_found", "channel 99 not found")
	status, raw = post("/api/v1/channels/abc/record")
	requireError(t, status, raw, http.StatusBadRequest, "invalid", "id must be a positive integer")
}
