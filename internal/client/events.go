package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/lsdvr/lsdvr/internal/api"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/lsdvr/lsdvr/internal/event"
)

// EventPage is one page of the event log: the stored envelopes verbatim and
// the newest seq in the log when the page was read.
type EventPage = api.EventPage

// ListEventsParams filters ListEvents. Zero values mean: from the start,
// the server's default page size (100), every action.
type ListEventsParams struct {
	After   int64
	Limit   int
	Actions []string
}

// ListEvents reads a page of the event log (GET /api/v1/events), oldest
// first.
func (c *Client) ListEvents(ctx context.Context, p ListEventsParams) (*EventPage, error) {
	q := url.Values{}
	if p.After > 0 {
		q.Set("after", strconv.FormatInt(p.After, 10))
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if len(p.Actions) > 0 {
		q.Set("action", strings.Join(p.Actions, ","))
	}
	path := "/api/v1/events"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var page EventPage
	if err := c.Do(ctx, http.MethodGet, path, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// Notice is the body of POST /api/v1/notify. Title is required; Category
// defaults to "manual" on the server.
type Notice = api.NotifyRequest

// NotifyResult identifies the notify event a notice became.
type NotifyResult = api.NotifyResponse

// Notify publishes a notify event to every channel (POST /api/v1/notify).
func (c *Client) Notify(ctx context.Context, n Notice) (*NotifyResult, error) {
	var res NotifyResult
	if err := c.Do(ctx, http.MethodPost, "/api/v1/notify", n, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Defaults of TailParams.
const (
	DefaultTailMinBackoff = 500 * time.Millisecond
	DefaultTailMaxBackoff = 30 * time.Second
)

// TailParams configures TailEvents.
type TailParams struct {
	// After resumes after this seq. Negative means start with the events
	// published after connecting.
	After int64
	// Actions, when set, limits which events reach the callback. Every
	// event still advances the resume point.
	Actions []string
	// MinBackoff and MaxBackoff bound the wait between reconnections, which
	// doubles from Min to Max (with jitter) and resets once connected.
	// Defaults 500 ms and 30 s.
	MinBackoff, MaxBackoff time.Duration
	// OnConnect, when set, receives the connected message of every
	// (re)connection.
	OnConnect func(event.Connected)
	// OnDisconnect, when set, is told why a connection ended and how long
	// TailEvents waits before the next attempt.
	OnDisconnect func(err error, retryIn time.Duration)
	// ReadLimit is the largest message accepted, in bytes. Default 16 MiB.
	ReadLimit int64
}

// TailEvents follows the event stream on GET /api/v1/ws and calls fn with
// each event (parsed envelope and raw bytes) in seq order. When the
// connection drops it reconnects with ?after=<last seq seen>, so nothing is
// missed and nothing repeats. It returns nil when ctx is done, fn's error
// if fn fails, and an *APIError when the server refuses the connection
// with a 4xx status (bad token, bad request): retrying would not help.
func (c *Client) TailEvents(ctx context.Context, p TailParams, fn func(env event.Envelope, raw []byte) error) error {
	if p.MinBackoff <= 0 {
		p.MinBackoff = DefaultTailMinBackoff
	}
	if p.MaxBackoff < p.MinBackoff {
		p.MaxBackoff = max(DefaultTailMaxBackoff, p.MinBackoff)
	}
	if p.ReadLimit <= 0 {
		p.ReadLimit = 16 << 20
	}
	want := make(map[event.Action]bool, len(p.Actions))
	for _, a := range p.Actions {
		want[event.Action(a)] = true
	}
	t := &tail{c: c, p: p, after: p.After, want: want, fn: fn}
	backoff := p.MinBackoff
	for {
		connected, err := t.session(ctx)
		var cbErr callbackError
		switch {
		case errors.As(err, &cbErr):
			return cbErr.err
		case ctx.Err() != nil:
			return nil
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.Status/100 == 4 {
			return err
		}
		if connected {
			backoff = p.MinBackoff
		}
		// Full jitter in the upper half keeps a crowd of clients from
		// reconnecting in step after a restart.
		wait := backoff/2 + rand.N(backoff/2+1)
		if p.OnDisconnect != nil {
			p.OnDisconnect(err, wait)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
		backoff = min(backoff*2, p.MaxBackoff)
	}
}

// callbackError carries an error returned by the caller's fn, which ends
// TailEvents instead of causing a reconnection.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

// tail is the state of one TailEvents call across reconnections.
type tail struct {
	c     *Client
	p     TailParams
	after int64 // resume point: last seq seen, or negative before any
	want  map[event.Action]bool
	fn    func(event.Envelope, []byte) error
}

// session runs one connection until it ends. connected reports whether the
// server accepted it (so the back-off can reset).
func (t *tail) session(ctx context.Context) (connected bool, err error) {
	path := "/api/v1/ws"
	if t.after >= 0 {
		path += "?after=" + strconv.FormatInt(t.after, 10)
	}
	opts := &websocket.DialOptions{HTTPClient: t.c.HTTP, HTTPHeader: http.Header{}}
	if t.c.Token != "" {
		opts.HTTPHeader.Set("Authorization", "Bearer "+t.c.Token)
	}
	conn, resp, err := websocket.Dial(ctx, t.c.WebsocketURL(path), opts)
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return false, responseError(resp)
		}
		return false, fmt.Errorf("connect to %s: %w", t.c.BaseURL, err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(t.p.ReadLimit)
	for {
		_, raw, err := conn.Read(ctx)
		if err != nil {
			return connected, fmt.Errorf("read events: %w", err)
		}
		var env event.Envelope
		if err := json.Unmarshal(raw, &env); err != nil {
			// Not an envelope (e.g. a "pong"): nothing to resume from.
			continue
		}
		if env.Action == event.ActionConnected {
			connected = true
			var c event.Connected
			if err := json.Unmarshal(env.Data, &c); err == nil {
				// A fresh tail resumes from here if the first
				// connection drops before any event.
				if t.after < 0 {
					t.after = c.LastSeq
				}
				if t.p.OnConnect != nil {
					t.p.OnConnect(c)
				}
			}
			continue
		}
		t.after = env.Seq
		if len(t.want) > 0 && !t.want[env.Action] {
			continue
		}
		if err := t.fn(env, raw); err != nil {
			return connected, callbackError{err}
		}
	}
}

// responseError turns a refused upgrade into an *APIError; only the first
// KiB of the body is available.
func responseError(resp *http.Response) error {
	var raw []byte
	if resp.Body != nil {
		raw, _ = io.ReadAll(resp.Body)
	}
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Error.Message == "" {
		return &APIError{Status: resp.StatusCode, Code: "http", Message: strings.TrimSpace(string(raw))}
	}
	return &APIError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
}
