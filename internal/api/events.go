package api

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

// Limits of POST /api/v1/notify, in characters.
const (
	MaxNotifyTitle    = 200
	MaxNotifyBody     = 4000
	MaxNotifyCategory = 64
)

// DefaultNotifyCategory is the category of a notice sent without one.
const DefaultNotifyCategory = "manual"

// Events serves the event log (GET /api/v1/events) and lets scripts send
// notices to every channel (POST /api/v1/notify).
type Events struct {
	db  *store.DB
	bus *event.Bus
}

// NewEvents returns the events resource; it reads the log from db's read
// pool and publishes notices through bus.
func NewEvents(db *store.DB, bus *event.Bus) *Events {
	return &Events{db: db, bus: bus}
}

// Routes implements Resource.
func (e *Events) Routes() []Route {
	return []Route{
		{"GET /api/v1/events", e.list},
		{"POST /api/v1/notify", e.notify},
	}
}

// EventPage is the response of GET /api/v1/events. Items are the stored
// envelopes, byte for byte. LastSeq is the newest seq in the log when the
// page was read (same snapshot as Items): a client that got fewer items than
// it asked for has seen everything up to LastSeq and may use it as its next
// after.
type EventPage struct {
	Items   []json.RawMessage `json:"items"`
	LastSeq int64             `json:"last_seq"`
}

// list answers GET /api/v1/events?after=SEQ&limit=N&action=A. action may be
// repeated or comma-separated; limit is 1..1000 (default 100).
func (e *Events) list(w http.ResponseWriter, r *http.Request) error {
	after, err := QueryInt(r, "after", 0)
	if err != nil {
		return err
	}
	if after < 0 {
		return dvr.Errorf(dvr.EINVALID, "query parameter after must be a seq of 0 or more, got %d", after)
	}
	limit, err := QueryInt(r, "limit", 100)
	if err != nil {
		return err
	}
	if limit < 1 || limit > event.MaxListLimit {
		return dvr.Errorf(dvr.EINVALID, "query parameter limit must be between 1 and %d, got %d", event.MaxListLimit, limit)
	}
	actions, err := parseActions(r.URL.Query()["action"])
	if err != nil {
		return err
	}
	page, err := e.readPage(r.Context(), event.ListParams{After: after, Limit: int(limit), Actions: actions})
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, page)
}

// readPage reads the events and the newest seq in one read transaction, so
// LastSeq never runs ahead of what the filter could have returned.
func (e *Events) readPage(ctx context.Context, p event.ListParams) (*EventPage, error) {
	tx, err := e.db.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only; nothing to undo
	evs, err := event.List(ctx, tx, p)
	if err != nil {
		return nil, err
	}
	last, err := event.LastSeq(ctx, tx)
	if err != nil {
		return nil, err
	}
	page := &EventPage{Items: make([]json.RawMessage, len(evs)), LastSeq: last}
	for i, ev := range evs {
		page.Items[i] = ev.Body
	}
	return page, nil
}

// parseActions splits repeated and comma-separated action values and
// rejects any name outside the catalogue.
func parseActions(values []string) ([]event.Action, error) {
	var out []event.Action
	for _, v := range values {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			a := event.Action(name)
			if !a.Valid() {
				return nil, dvr.Errorf(dvr.EINVALID, "query parameter action: unknown action %q", name)
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// NotifyRequest is the body of POST /api/v1/notify.
type NotifyRequest struct {
	Title    string `json:"title"`
	Body     string `json:"body"`
	Category string `json:"category"`
	URL      string `json:"url"`
	Icon     string `json:"icon"`
	TTS      bool   `json:"tts"`
}

// NotifyResponse is the 202 answer of POST /api/v1/notify.
type NotifyResponse struct {
	EventID string `json:"event_id"`
	Seq     int64  `json:"seq"`
}

// notify publishes a notify event from a validated NotifyRequest.
func (e *Events) notify(w http.ResponseWriter, r *http.Request) error {
	var req NotifyRequest
	if err := DecodeJSON(w, r, &req); err != nil {
		return err
	}
	data, err := req.validate()
	if err != nil {
		return err
	}
	ev, err := e.bus.PublishNow(r.Context(), data)
	if err != nil {
		return fmt.Errorf("publish notify: %w", err)
	}
	return WriteJSON(w, http.StatusAccepted, NotifyResponse{EventID: ev.ID, Seq: ev.Seq})
}

// validate checks the request and returns the notify payload, with the
// category defaulted.
func (req NotifyRequest) validate() (event.Notify, error) {
	title := strings.TrimSpace(req.Title)
	switch {
	case title == "":
		return event.Notify{}, dvr.Errorf(dvr.EINVALID, "title is required")
	case utf8.RuneCountInString(title) > MaxNotifyTitle:
		return event.Notify{}, dvr.Errorf(dvr.EINVALID, "title must be at most %d characters, got %d", MaxNotifyTitle, utf8.RuneCountInString(title))
	case utf8.RuneCountInString(req.Body) > MaxNotifyBody:
		return event.Notify{}, dvr.Errorf(dvr.EINVALID, "body must be at most %d characters, got %d", MaxNotifyBody, utf8.RuneCountInString(req.Body))
	}
	category := strings.TrimSpace(req.Category)
	if category == "" {
		category = DefaultNotifyCategory
	}
	if n := utf8.RuneCountInString(category); n > MaxNotifyCategory {
		return event.Notify{}, dvr.Errorf(dvr.EINVALID, "category must be at most %d characters, got %d", MaxNotifyCategory, n)
	}
	for _, f := range []struct{ name, value string }{{"url", req.URL}, {"icon", req.Icon}} {
		if f.value == "" {
			continue
		}
		u, err := url.Parse(f.value)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return event.Notify{}, dvr.Errorf(dvr.EINVALID, "%s must be an absolute http or https URL, got %q", f.name, f.value)
		}
	}
	return event.Notify{Title: title, Body: req.Body, Category: category, URL: req.URL, Icon: req.Icon, TTS: req.TTS}, nil
}
