package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/record"
)

// recordNowFake answers record-now requests through RecordNowFunc.
type recordNowFake struct {
	RecordNowFunc func(ctx context.Context, channelID int64) (dvr.VOD, error)
}

func (f *recordNowFake) RecordNow(ctx context.Context, channelID int64) (dvr.VOD, error) {
	return f.RecordNowFunc(ctx, channelID)
}

// `lsdvr channel record` resolves the channel by name or id, asks the
// server to record it and prints the VOD; refusals are printed as errors.
func TestChannelRecordCommand(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	lib := record.NewLibrary(db, event.NewBus(db, nil), filepath.Join(t.TempDir(), "storage"), nil)
	live, err := lib.CreateChannel(context.Background(), record.ChannelParams{Name: "demo", URL: "http://127.0.0.1:9/live.m3u8"})
	require.NoError(t, err)
	off, err := lib.CreateChannel(context.Background(), record.ChannelParams{Name: "sleepy", URL: "http://127.0.0.1:9/off.m3u8"})
	require.NoError(t, err)
	fake := &recordNowFake{RecordNowFunc: func(_ context.Context, id int64) (dvr.VOD, error) {
		if id == live.ID {
			return dvr.VOD{ID: 3, Basename: "demo_20261204T192000Z", ChannelID: id, ChannelName: "demo", Status: "capturing"}, nil
		}
		return dvr.VOD{}, dvr.Errorf(dvr.ECONFLICT, "channel is offline: playlist answered 404 Not Found")
	}}
	srv := cliServer{url: serveAPI(t, api.NewChannels(lib), api.NewRecord(fake))}

	out, err := srv.run(t, "channel", "record", "DEMO")
	require.NoError(t, err)
	require.Equal(t, "recording channel demo: vod demo_20261204T192000Z (id 3)\n", out)

	out, err = srv.run(t, "--json", "channel", "record", itoa(live.ID))
	require.NoError(t, err)
	var v dvr.VOD
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	require.Equal(t, int64(3), v.ID)
	require.Equal(t, "capturing", v.Status)

	_, err = srv.run(t, "channel", "record", off.Name)
	require.ErrorContains(t, err, "channel is offline")
	_, err = srv.run(t, "channel", "record", "nope")
	require.ErrorContains(t, err, `no channel is named or numbered "nope"`)
}
