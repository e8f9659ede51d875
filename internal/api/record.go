package api

import (
	"context"
	"net/http"

	"github.com/lsdvr/lsdvr/internal/dvr"
)

// ChannelRecorder starts a recording on request; *record.Recorder
// implements it.
type ChannelRecorder interface {
	// RecordNow probes the channel and records it if live, returning the
	// new VOD. Errors: ENOTFOUND, ECONFLICT (already recording, or
	// offline), EUNAVAILABLE (recording disabled).
	RecordNow(ctx context.Context, channelID int64) (dvr.VOD, error)
}

// Record serves POST /api/v1/channels/{id}/record: "record now".
type Record struct {
	rec ChannelRecorder
}

// NewRecord returns the record-now resource over rec.
func NewRecord(rec ChannelRecorder) *Record { return &Record{rec: rec} }

// Routes implements Resource.
func (rc *Record) Routes() []Route {
	return []Route{
		{"POST /api/v1/channels/{id}/record", rc.record},
	}
}

// record answers 202 with the VOD being captured: the capture has started
// and goes on in the background. 404 for an unknown channel, 409 when it is
// already being recorded or is offline, 503 when recording is disabled.
func (rc *Record) record(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := rc.rec.RecordNow(r.Context(), id)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusAccepted, v)
}
