package webhook

import (
	"context"
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

// Create adds an endpoint and returns it with its secret, which is never
// shown again. It returns EINVALID for a URL that is not absolute http(s), a
// malformed secret, an unknown action or an overlong description; nothing
// is written then.
func (s *Service) Create(ctx context.Context, p CreateParams) (*Endpoint, error) {
	u, err := validateURL(p.URL)
	if err != nil {
		return nil, err
	}
	secret := p.Secret
	if secret == "" {
		if secret, err = GenerateSecret(); err != nil {
			return nil, err
		}
	} else if err := ValidateSecret(secret); err != nil {
		return nil, err
	}
	actions, err := normalizeActions(p.Actions)
	if err != nil {
		return nil, err
	}
	if err := validateDescription(p.Description); err != nil {
		return nil, err
	}
	now := s.cfg.Now().UTC().Truncate(time.Millisecond)
	r := &endpointRow{secret: secret}
	r.URL, r.Actions, r.Description = u, actions, p.Description
	r.Enabled = p.Enabled == nil || *p.Enabled
	if !r.Enabled {
		r.DisabledReason = "created disabled"
	}
	r.CreatedAt, r.UpdatedAt = now, now
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := insertEndpoint(ctx, tx, r); err != nil {
			return err
		}
		return s.reloadInTx(ctx, tx)
	})
	if err != nil {
		return nil, err
	}
	out := r.Endpoint
	out.Secret = secret
	return &out, nil
}

// Get returns the endpoint with this id, without its secret, or ENOTFOUND.
func (s *Service) Get(ctx context.Context, id int64) (*Endpoint, error) {
	r, err := getEndpoint(ctx, s.db.Read, id)
	if err != nil {
		return nil, err
	}
	return &r.Endpoint, nil
}

// List returns every endpoint in id order, without secrets.
func (s *Service) List(ctx context.Context) ([]*Endpoint, error) {
	rows, err := listEndpoints(ctx, s.db.Read)
	if err != nil {
		return nil, err
	}
	out := make([]*Endpoint, len(rows))
	for i, r := range rows {
		out[i] = &r.Endpoint
	}
	return out, nil
}

// Update changes the fields set in p and returns the endpoint. Enabling
// clears disabled_reason and failing_since, and the endpoint's pending
// deliveries resume. Errors: ENOTFOUND, and EINVALID as for Create.
func (s *Service) Update(ctx context.Context, id int64, p UpdateParams) (*Endpoint, error) {
	var (
		u       string
		actions []event.Action
		err     error
	)
	if p.URL != nil {
		if u, err = validateURL(*p.URL); err != nil {
			return nil, err
		}
	}
	if p.Actions != nil {
		if actions, err = normalizeActions(*p.Actions); err != nil {
			return nil, err
		}
	}
	if p.Description != nil {
		if err := validateDescription(*p.Description); err != nil {
			return nil, err
		}
	}
	var out Endpoint
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := getEndpoint(ctx, tx, id)
		if err != nil {
			return err
		}
		if p.URL != nil {
			r.URL = u
		}
		if p.Actions != nil {
			r.Actions = actions
		}
		if p.Description != nil {
			r.Description = *p.Description
		}
		if p.Enabled != nil {
			switch {
			case *p.Enabled:
				r.Enabled, r.DisabledReason, r.FailingSince = true, "", nil
			case r.Enabled:
				r.Enabled, r.DisabledReason = false, "disabled by an operator"
			}
		}
		r.UpdatedAt = s.cfg.Now().UTC().Truncate(time.Millisecond)
		if err := updateEndpoint(ctx, tx, r); err != nil {
			return err
		}
		out = r.Endpoint
		return s.reloadInTx(ctx, tx)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete removes an endpoint with its deliveries and attempt log; its
// pending deliveries are never sent. Returns ENOTFOUND for an unknown id.
func (s *Service) Delete(ctx context.Context, id int64) error {
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := deleteEndpoint(ctx, tx, id); err != nil {
			return err
		}
		return s.reloadInTx(ctx, tx)
	})
}

// Rotate gives the endpoint a new secret (p.Secret, or a generated one)
// and returns the endpoint with it. For the grace period (default 24 h)
// every delivery carries two signatures, with the new and the old secret,
// so the receiver can switch at its pace. Errors: ENOTFOUND; EINVALID for a
// malformed secret or a negative grace.
func (s *Service) Rotate(ctx context.Context, id int64, p RotateParams) (*Endpoint, error) {
	secret := p.Secret
	var err error
	if secret == "" {
		if secret, err = GenerateSecret(); err != nil {
			return nil, err
		}
	} else if err := ValidateSecret(secret); err != nil {
		return nil, err
	}
	grace := DefaultRotationGrace
	if p.GraceSeconds != nil {
		if *p.GraceSeconds < 0 || *p.GraceSeconds > 30*24*3600 {
			return nil, dvr.Errorf(dvr.EINVALID, "grace_seconds must be between 0 and %d, got %d", 30*24*3600, *p.GraceSeconds)
		}
		grace = time.Duration(*p.GraceSeconds) * time.Second
	}
	var out Endpoint
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		r, err := getEndpoint(ctx, tx, id)
		if err != nil {
			return err
		}
		if secret == r.secret {
			return dvr.Errorf(dvr.EINVALID, "secret must differ from the current one")
		}
		now := s.cfg.Now().UTC().Truncate(time.Millisecond)
		if grace > 0 {
			until := now.Add(grace)
			r.previousSecret, r.PreviousSecretUntil = r.secret, &until
		} else {
			r.previousSecret, r.PreviousSecretUntil = "", nil
		}
		r.secret, r.UpdatedAt = secret, now
		if err := updateEndpoint(ctx, tx, r); err != nil {
			return err
		}
		out = r.Endpoint
		return s.reloadInTx(ctx, tx)
	})
	if err != nil {
		return nil, err
	}
	out.Secret = secret
	return &out, nil
}

// ListAttempts returns the attempt log of an endpoint, newest first.
// Errors: ENOTFOUND for an unknown endpoint, EINVALID for bad paging.
func (s *Service) ListAttempts(ctx context.Context, endpointID int64, p AttemptListParams) ([]*Attempt, error) {
	if _, err := getEndpoint(ctx, s.db.Read, endpointID); err != nil {
		return nil, err
	}
	return listAttempts(ctx, s.db.Read, endpointID, p)
}

// ListDeliveries returns the deliveries of an endpoint, newest first.
// Errors: ENOTFOUND for an unknown endpoint, EINVALID for a bad filter.
func (s *Service) ListDeliveries(ctx context.Context, endpointID int64, p DeliveryListParams) ([]*Delivery, error) {
	if _, err := getEndpoint(ctx, s.db.Read, endpointID); err != nil {
		return nil, err
	}
	return listDeliveries(ctx, s.db.Read, endpointID, p)
}

// GetDelivery returns one delivery, or ENOTFOUND.
func (s *Service) GetDelivery(ctx context.Context, id int64) (*Delivery, error) {
	return getDelivery(ctx, s.db.Read, id)
}
