// Package client is a small Go client of lsdvr's HTTP API, used by the CLI.
// Each resource adds its typed methods in a file of its own.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to one lsdvr server. It is safe for concurrent use.
type Client struct {
	// BaseURL is the server's address, e.g. http://127.0.0.1:8080.
	BaseURL string
	// Token, when set, is sent as a bearer token.
	Token string
	// HTTP is the client used for requests; nil means a client with a 30 s timeout.
	HTTP *http.Client
}

// New returns a client for the server at base (scheme optional).
func New(base, token string) (*Client, error) {
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("server address %q must look like http://host:port", base)
	}
	return &Client{BaseURL: strings.TrimRight(u.String(), "/"), Token: token, HTTP: &http.Client{Timeout: 30 * time.Second}}, nil
}

// APIError is an error response of the server.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s (HTTP %d, %s)", e.Message, e.Status, e.Code)
}

// Do sends a request with in encoded as JSON (nil: no body) and decodes a 2xx
// response into out (nil: discard). Error responses become *APIError.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		buf, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		var opErr *net.OpError
		if errors.As(err, &opErr) && opErr.Op == "dial" {
			return fmt.Errorf("cannot reach the lsdvr server at %s (is `lsdvr serve` running? use --server to point elsewhere): %w", c.BaseURL, opErr.Err)
		}
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read response: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
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
	if out == nil || len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

// WebsocketURL returns the ws:// or wss:// address of path on the server.
func (c *Client) WebsocketURL(path string) string {
	switch {
	case strings.HasPrefix(c.BaseURL, "https://"):
		return "wss://" + strings.TrimPrefix(c.BaseURL, "https://") + path
	default:
		return "ws://" + strings.TrimPrefix(c.BaseURL, "http://") + path
	}
}
