package ws

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/lsdvr/lsdvr/internal/event"
)

// maxClientMessage bounds what a client may send: "ping" or {"after":N}.
const maxClientMessage = 4096

// firstMessage is what the reader learned from a client's first message.
type firstMessage struct {
	after    int64
	hasAfter bool
}

// client is one websocket connection. Only its serve goroutine writes
// events; the reader and the pinger talk to it through channels.
type client struct {
	hub  *Hub
	id   string
	conn *websocket.Conn

	send  chan *event.Event // live events, shared with every client
	ctrl  chan []byte       // replies to client messages ("pong")
	first chan firstMessage // the client's first message, once

	kick       chan struct{} // closed when the hub drops the client
	kickOnce   sync.Once
	kickReason string // set before kick is closed

	// writeTimer enforces WriteTimeout. One timer per connection, reset
	// per write, costs far less than a context with a deadline per write,
	// which matters when one event goes to thousands of clients.
	writeTimer *time.Timer
}

// serve runs the connection until it ends: connected, optional replay, then
// live events. It returns after the reader and pinger have stopped.
func (c *client) serve(reqCtx context.Context, after int64) {
	h := c.hub
	ctx, cancel := context.WithCancel(reqCtx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		_ = c.conn.CloseNow()
		wg.Wait()
	}()

	// Register before reading the log: an event committed from here on is
	// either in the log we read or in c.send (or both; seq dedupes).
	h.add(c)
	defer h.remove(c)
	lastSeq, err := event.LastSeq(ctx, h.db.Read)
	if err != nil {
		h.logger.Error("websocket read last seq", "client_id", c.id, "err", err)
		_ = c.conn.Close(websocket.StatusInternalError, "cannot read the event log")
		return
	}

	c.writeTimer = time.AfterFunc(time.Hour, func() {
		c.hub.drop(c, ReasonWriteError)
		_ = c.conn.CloseNow()
	})
	c.writeTimer.Stop()
	defer c.writeTimer.Stop()
	// Writes run without a context (see write), so a client that goes away
	// must still unblock them.
	defer context.AfterFunc(ctx, func() { _ = c.conn.CloseNow() })()

	c.conn.SetReadLimit(maxClientMessage)
	wg.Add(2)
	go func() { defer wg.Done(); c.readLoop(ctx, cancel) }()
	go func() { defer wg.Done(); c.pingLoop(ctx) }()

	connected, err := c.connectedBody(lastSeq)
	if err != nil {
		h.logger.Error("websocket encode connected", "client_id", c.id, "err", err)
		_ = c.conn.Close(websocket.StatusInternalError, "cannot encode connected")
		return
	}
	if !c.write(ctx, connected) {
		return
	}

	if after < 0 {
		after = lastSeq
		if m, ok := c.awaitFirst(ctx); !ok {
			c.finish(ctx)
			return
		} else if m.hasAfter {
			after = m.after
		}
	}
	// An after beyond the log means the log was reset; holding back every
	// event up to the client's seq would silently lose them.
	after = min(after, lastSeq)
	lastSent, ok := c.replay(ctx, after)
	if !ok {
		c.finish(ctx)
		return
	}
	c.live(ctx, lastSent)
}

// awaitFirst waits up to ResumeWait for the client's first message. It
// returns false when the connection must end instead.
func (c *client) awaitFirst(ctx context.Context) (firstMessage, bool) {
	t := time.NewTimer(c.hub.cfg.ResumeWait)
	defer t.Stop()
	select {
	case m := <-c.first:
		return m, true
	case <-t.C:
		return firstMessage{}, true
	case <-ctx.Done():
	case <-c.kick:
	case <-c.hub.done:
	}
	return firstMessage{}, false
}

// replay sends the logged events after seq, page by page, and returns the
// last seq sent. Live events pile up in c.send meanwhile; if they overflow
// it, the client is dropped as slow like any other.
func (c *client) replay(ctx context.Context, after int64) (int64, bool) {
	for {
		evs, err := event.List(ctx, c.hub.db.Read, event.ListParams{After: after, Limit: event.MaxListLimit})
		if err != nil {
			if ctx.Err() == nil {
				c.hub.logger.Error("websocket replay", "client_id", c.id, "after", after, "err", err)
				_ = c.conn.Close(websocket.StatusInternalError, "cannot read the event log")
			}
			return after, false
		}
		for _, ev := range evs {
			if c.interrupted(ctx) || !c.write(ctx, ev.Body) {
				return after, false
			}
			after = ev.Seq
		}
		if len(evs) < event.MaxListLimit {
			return after, true
		}
	}
}

// live sends live events until the connection ends. Events at or below
// lastSent were already replayed and are skipped.
func (c *client) live(ctx context.Context, lastSent int64) {
	for {
		if c.interrupted(ctx) {
			c.finish(ctx)
			return
		}
		select {
		case ev := <-c.send:
			if ev.Seq <= lastSent {
				continue
			}
			if !c.write(ctx, ev.Body) {
				return
			}
			lastSent = ev.Seq
		case msg := <-c.ctrl:
			if !c.write(ctx, msg) {
				return
			}
		case <-ctx.Done():
		case <-c.kick:
		case <-c.hub.done:
		}
	}
}

// interrupted reports whether the connection must stop sending now.
func (c *client) interrupted(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	case <-c.kick:
		return true
	case <-c.hub.done:
		return true
	default:
		return false
	}
}

// finish closes the connection for whichever reason stopped it.
func (c *client) finish(ctx context.Context) {
	select {
	case <-c.kick:
		if c.kickReason == ReasonSlowConsumer {
			_ = c.conn.Close(websocket.StatusPolicyViolation, SlowConsumerReason)
			return
		}
		// A client that misses pongs or writes is not listening; a close
		// handshake would only wait for it.
		_ = c.conn.CloseNow()
		return
	default:
	}
	select {
	case <-c.hub.done:
		_ = c.conn.Close(websocket.StatusGoingAway, "server shutting down")
		return
	default:
	}
	// The client went away (ctx is done): nothing to say to it.
	_ = c.conn.CloseNow()
}

// write sends one text message within WriteTimeout. It returns false when
// the connection is unusable; the caller then just returns.
func (c *client) write(ctx context.Context, msg []byte) bool {
	c.writeTimer.Reset(c.hub.cfg.WriteTimeout)
	err := c.conn.Write(context.Background(), websocket.MessageText, msg)
	c.writeTimer.Stop()
	if err != nil {
		if ctx.Err() == nil {
			c.hub.drop(c, ReasonWriteError)
			c.hub.logger.Debug("websocket write", "client_id", c.id, "err", err)
		}
		_ = c.conn.CloseNow()
		return false
	}
	return true
}

// readLoop reads client messages until the connection ends, then cancels
// the connection's context.
func (c *client) readLoop(ctx context.Context, cancel context.CancelFunc) {
	defer cancel()
	first := true
	for {
		typ, msg, err := c.conn.Read(ctx)
		if err != nil {
			return
		}
		m, isPing := parseClientMessage(typ, msg)
		if isPing {
			select {
			case c.ctrl <- []byte("pong"):
			default: // a client flooding pings loses some pongs, not the hub
			}
		}
		if first {
			first = false
			c.first <- m // buffered for exactly this one message
		}
	}
}

// parseClientMessage recognises the two messages clients may send: the
// text "ping" and {"after":SEQ} with SEQ >= 0. Anything else is ignored.
func parseClientMessage(typ websocket.MessageType, msg []byte) (m firstMessage, isPing bool) {
	if typ != websocket.MessageText {
		return m, false
	}
	if string(msg) == "ping" {
		return m, true
	}
	var req struct {
		After *int64 `json:"after"`
	}
	if err := json.Unmarshal(msg, &req); err == nil && req.After != nil && *req.After >= 0 {
		return firstMessage{after: *req.After, hasAfter: true}, false
	}
	return m, false
}

// pingLoop pings the client every PingInterval and drops it when a pong
// does not come back within WriteTimeout.
func (c *client) pingLoop(ctx context.Context) {
	t := time.NewTicker(c.hub.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, c.hub.cfg.WriteTimeout)
		err := c.conn.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				c.hub.drop(c, ReasonPingTimeout)
			}
			return
		}
	}
}

// connectedBody builds the connected envelope: the catalogue's Connected
// payload in the usual envelope, with seq 0 because it is not logged.
func (c *client) connectedBody(lastSeq int64) ([]byte, error) {
	data, err := json.Marshal(event.Connected{ClientID: c.id, Version: c.hub.cfg.Version, LastSeq: lastSeq})
	if err != nil {
		return nil, fmt.Errorf("encode connected: %w", err)
	}
	body, err := json.Marshal(event.Envelope{
		ID:        "evt_" + c.hub.newULID(),
		Seq:       0,
		Action:    event.ActionConnected,
		Timestamp: c.hub.cfg.Now().UTC().Truncate(time.Millisecond).Format(event.TimestampFormat),
		Data:      data,
	})
	if err != nil {
		return nil, fmt.Errorf("encode connected envelope: %w", err)
	}
	return body, nil
}
