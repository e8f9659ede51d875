package webhook

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

// AllActions is the filter value that selects every action of the
// catalogue, log and job_progress included.
const AllActions event.Action = "*"

// Limits on endpoint fields.
const (
	MaxURLLength         = 2048
	MaxDescriptionLength = 1000
)

// DefaultActions reports whether an endpoint with the default (empty) filter
// receives a: every action except log and job_progress, which are too
// chatty for most receivers.
func DefaultActions(a event.Action) bool {
	return a != event.ActionLog && a != event.ActionJobProgress
}

// Endpoint is a webhook receiver as the API shows it. Secret is set only in
// the responses of Create and Rotate.
type Endpoint struct {
	ID  int64  `json:"id"`
	URL string `json:"url"`
	// Secret is the signing secret, shown only when it is created.
	Secret string `json:"secret,omitempty"`
	// Actions is the filter as configured: empty means the default (every
	// action but log and job_progress), ["*"] means every action.
	Actions     []event.Action `json:"actions"`
	Description string         `json:"description"`
	Enabled     bool           `json:"enabled"`
	// DisabledReason says why the endpoint was disabled; empty while enabled.
	DisabledReason string `json:"disabled_reason,omitempty"`
	// FailingSince is the time of the first failed attempt since the last
	// success; absent while the endpoint is healthy.
	FailingSince *time.Time `json:"failing_since,omitempty"`
	// PreviousSecretUntil is when the grace period of the last rotation
	// ends; absent when none runs.
	PreviousSecretUntil *time.Time `json:"previous_secret_until,omitempty"`
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
}

// CreateParams describes a new endpoint.
type CreateParams struct {
	// URL must be an absolute http or https URL with a host.
	URL string `json:"url"`
	// Secret is "whsec_" + base64 of at least 24 bytes; empty generates one.
	Secret string `json:"secret,omitempty"`
	// Actions filters what is delivered; see Endpoint.Actions.
	Actions     []event.Action `json:"actions,omitempty"`
	Description string         `json:"description,omitempty"`
	// Enabled defaults to true.
	Enabled *bool `json:"enabled,omitempty"`
}

// UpdateParams changes an endpoint; nil fields are left as they are.
type UpdateParams struct {
	URL         *string         `json:"url,omitempty"`
	Actions     *[]event.Action `json:"actions,omitempty"`
	Description *string         `json:"description,omitempty"`
	// Enabled true re-enables the endpoint, clearing disabled_reason and
	// failing_since; false disables it.
	Enabled *bool `json:"enabled,omitempty"`
}

// RotateParams describes a secret rotation. The zero value generates a
// secret and keeps the old one valid for 24 hours.
type RotateParams struct {
	// Secret is the new secret; empty generates one.
	Secret string `json:"secret,omitempty"`
	// GraceSeconds is how long deliveries stay signed with the old secret
	// too; nil means 24 hours, 0 drops the old secret at once.
	GraceSeconds *int64 `json:"grace_seconds,omitempty"`
}

// validateURL parses raw and checks that it is an absolute http(s) URL.
func validateURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", dvr.Errorf(dvr.EINVALID, "url is required")
	}
	if len(raw) > MaxURLLength {
		return "", dvr.Errorf(dvr.EINVALID, "url must be at most %d characters, got %d", MaxURLLength, len(raw))
	}
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return "", dvr.Errorf(dvr.EINVALID, "url %q is not a valid URL: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", dvr.Errorf(dvr.EINVALID, "url must use http or https, got %q", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", dvr.Errorf(dvr.EINVALID, "url must have a host, got %q", raw)
	}
	return u.String(), nil
}

// normalizeActions validates a filter and returns it sorted without
// duplicates. "*" must stand alone.
func normalizeActions(in []event.Action) ([]event.Action, error) {
	out := make([]event.Action, 0, len(in))
	for _, a := range in {
		if a == AllActions {
			if len(in) != 1 {
				return nil, dvr.Errorf(dvr.EINVALID, "actions: %q selects every action and cannot be combined with others", AllActions)
			}
			return []event.Action{AllActions}, nil
		}
		if !a.Valid() {
			return nil, dvr.Errorf(dvr.EINVALID, "actions: unknown action %q", a)
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out, nil
}

func validateDescription(d string) error {
	if len(d) > MaxDescriptionLength {
		return dvr.Errorf(dvr.EINVALID, "description must be at most %d bytes, got %d", MaxDescriptionLength, len(d))
	}
	return nil
}

// endpointRow is an endpoint as stored, secrets included.
type endpointRow struct {
	Endpoint
	secret         string
	previousSecret string
}

const endpointColumns = `id, url, secret, previous_secret, previous_secret_until, actions, description,
	enabled, disabled_reason, failing_since, created_at, updated_at`

func scanEndpoint(s interface{ Scan(...any) error }) (*endpointRow, error) {
	var (
		r                         endpointRow
		prevUntil, failing        sql.NullInt64
		actions                   string
		created, updated, enabled int64
	)
	if err := s.Scan(&r.ID, &r.URL, &r.secret, &r.previousSecret, &prevUntil, &actions, &r.Description,
		&enabled, &r.DisabledReason, &failing, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(actions), &r.Actions); err != nil {
		return nil, fmt.Errorf("decode actions of endpoint %d: %w", r.ID, err)
	}
	if r.Actions == nil {
		r.Actions = []event.Action{}
	}
	r.Enabled = enabled != 0
	if prevUntil.Valid {
		t := store.FromMilli(prevUntil.Int64)
		r.PreviousSecretUntil = &t
	}
	if failing.Valid {
		t := store.FromMilli(failing.Int64)
		r.FailingSince = &t
	}
	r.CreatedAt, r.UpdatedAt = store.FromMilli(created), store.FromMilli(updated)
	return &r, nil
}

func getEndpoint(ctx context.Context, q store.Querier, id int64) (*endpointRow, error) {
	r, err := scanEndpoint(q.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, dvr.Errorf(dvr.ENOTFOUND, "webhook %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get webhook %d: %w", id, err)
	}
	return r, nil
}

func listEndpoints(ctx context.Context, q store.Querier) ([]*endpointRow, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	defer rows.Close()
	var out []*endpointRow
	for rows.Next() {
		r, err := scanEndpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return out, nil
}

func insertEndpoint(ctx context.Context, tx *store.Tx, r *endpointRow) error {
	actions, err := json.Marshal(r.Actions)
	if err != nil {
		return fmt.Errorf("encode actions: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO webhook_endpoints
		(url, secret, actions, description, enabled, disabled_reason, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		r.URL, r.secret, string(actions), r.Description, r.Enabled, r.DisabledReason,
		store.UnixMilli(r.CreatedAt), store.UnixMilli(r.UpdatedAt))
	if err != nil {
		return fmt.Errorf("insert webhook: %w", err)
	}
	if r.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("insert webhook: %w", err)
	}
	return nil
}

// updateEndpoint writes every mutable field of r.
func updateEndpoint(ctx context.Context, tx *store.Tx, r *endpointRow) error {
	actions, err := json.Marshal(r.Actions)
	if err != nil {
		return fmt.Errorf("encode actions: %w", err)
	}
	_, err = tx.ExecContext(ctx, `UPDATE webhook_endpoints SET url = ?, secret = ?, previous_secret = ?,
		previous_secret_until = ?, actions = ?, description = ?, enabled = ?, disabled_reason = ?,
		failing_since = ?, updated_at = ? WHERE id = ?`,
		r.URL, r.secret, r.previousSecret, nullMilli(r.PreviousSecretUntil), string(actions), r.Description,
		r.Enabled, r.DisabledReason, nullMilli(r.FailingSince), store.UnixMilli(r.UpdatedAt), r.ID)
	if err != nil {
		return fmt.Errorf("update webhook %d: %w", r.ID, err)
	}
	return nil
}

func deleteEndpoint(ctx context.Context, tx *store.Tx, id int64) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete webhook %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete webhook %d: %w", id, err)
	} else if n == 0 {
		return dvr.Errorf(dvr.ENOTFOUND, "webhook %d not found", id)
	}
	return nil
}

// setFailingSince records the start of a failing streak (t non-nil) or its
// end (t nil) without touching updated_at, which tracks edits.
func setFailingSince(ctx context.Context, tx *store.Tx, id int64, t *time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET failing_since = ? WHERE id = ?`, nullMilli(t), id); err != nil {
		return fmt.Errorf("set failing_since of webhook %d: %w", id, err)
	}
	return nil
}

// disableEndpoint disables an enabled endpoint, reporting whether it was.
func disableEndpoint(ctx context.Context, tx *store.Tx, id int64, reason string, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?, updated_at = ?
		WHERE id = ? AND enabled = 1`, reason, store.UnixMilli(now), id)
	if err != nil {
		return false, fmt.Errorf("disable webhook %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("disable webhook %d: %w", id, err)
	}
	return n > 0, nil
}

func nullMilli(t *time.Time) any {
	if t == nil {
		return nil
	}
	return store.UnixMilli(*t)
}

// cachedEndpoint is an endpoint ready for the hot path: its filter as a set
// and its secrets decoded.
type cachedEndpoint struct {
	row     *endpointRow
	all     bool
	actions map[event.Action]bool // nil for the default filter
	signer  *signer
}

func (c *cachedEndpoint) matches(a event.Action) bool {
	switch {
	case c.all:
		return true
	case c.actions == nil:
		return DefaultActions(a)
	default:
		return c.actions[a]
	}
}

// snapshot is an immutable view of every endpoint, swapped whole after each
// change so the publishing hook never queries endpoints.
type snapshot struct {
	byID    map[int64]*cachedEndpoint
	enabled []*cachedEndpoint // in id order
}

func loadSnapshot(ctx context.Context, q store.Querier) (*snapshot, error) {
	rows, err := listEndpoints(ctx, q)
	if err != nil {
		return nil, err
	}
	snap := &snapshot{byID: make(map[int64]*cachedEndpoint, len(rows))}
	for _, r := range rows {
		var until time.Time
		if r.PreviousSecretUntil != nil {
			until = *r.PreviousSecretUntil
		}
		sg, err := newSigner(r.secret, r.previousSecret, until)
		if err != nil {
			return nil, fmt.Errorf("webhook %d: %w", r.ID, err)
		}
		c := &cachedEndpoint{row: r, signer: sg}
		switch {
		case len(r.Actions) == 1 && r.Actions[0] == AllActions:
			c.all = true
		case len(r.Actions) > 0:
			c.actions = make(map[event.Action]bool, len(r.Actions))
			for _, a := range r.Actions {
				c.actions[a] = true
			}
		}
		snap.byID[r.ID] = c
		if r.Enabled {
			snap.enabled = append(snap.enabled, c)
		}
	}
	return snap, nil
}
