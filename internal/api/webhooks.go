package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/webhook"
)

// WebhookService is what the webhooks resource needs of the webhook
// service; *webhook.Service implements it.
type WebhookService interface {
	Create(ctx context.Context, p webhook.CreateParams) (*webhook.Endpoint, error)
	Get(ctx context.Context, id int64) (*webhook.Endpoint, error)
	List(ctx context.Context) ([]*webhook.Endpoint, error)
	Update(ctx context.Context, id int64, p webhook.UpdateParams) (*webhook.Endpoint, error)
	Delete(ctx context.Context, id int64) error
	Rotate(ctx context.Context, id int64, p webhook.RotateParams) (*webhook.Endpoint, error)
	SendTest(ctx context.Context, id int64) (*event.Event, error)
	ListAttempts(ctx context.Context, id int64, p webhook.AttemptListParams) ([]*webhook.Attempt, error)
	Replay(ctx context.Context, deliveryID int64) (*webhook.Delivery, error)
	ReplayFailed(ctx context.Context, endpointID int64, since time.Time) (int, error)
}

var _ WebhookService = (*webhook.Service)(nil)

// Webhooks serves webhook endpoints, their attempt log, test sends,
// secret rotation and replays.
type Webhooks struct {
	svc WebhookService
}

// NewWebhooks returns the webhooks resource.
func NewWebhooks(svc WebhookService) *Webhooks { return &Webhooks{svc: svc} }

// Routes implements Resource.
func (h *Webhooks) Routes() []Route {
	return []Route{
		{"GET /api/v1/webhooks", h.list},
		{"POST /api/v1/webhooks", h.create},
		{"GET /api/v1/webhooks/{id}", h.get},
		{"PATCH /api/v1/webhooks/{id}", h.update},
		{"DELETE /api/v1/webhooks/{id}", h.delete},
		{"POST /api/v1/webhooks/{id}/test", h.test},
		{"POST /api/v1/webhooks/{id}/rotate", h.rotate},
		{"GET /api/v1/webhooks/{id}/deliveries", h.deliveries},
		{"POST /api/v1/webhooks/{id}/replay", h.replayFailed},
		{"POST /api/v1/deliveries/{id}/replay", h.replay},
	}
}

// list answers GET /api/v1/webhooks with {"items":[...]}, secrets left out.
func (h *Webhooks) list(w http.ResponseWriter, r *http.Request) error {
	eps, err := h.svc.List(r.Context())
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, NewList(eps))
}

// create answers POST /api/v1/webhooks (body: webhook.CreateParams) with
// 201 and the endpoint, secret included: the only time it is shown.
func (h *Webhooks) create(w http.ResponseWriter, r *http.Request) error {
	var p webhook.CreateParams
	if err := DecodeJSON(w, r, &p); err != nil {
		return err
	}
	ep, err := h.svc.Create(r.Context(), p)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, ep)
}

// get answers GET /api/v1/webhooks/{id}, without the secret.
func (h *Webhooks) get(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	ep, err := h.svc.Get(r.Context(), id)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, ep)
}

// update answers PATCH /api/v1/webhooks/{id} (body: webhook.UpdateParams:
// url, actions, description, enabled) with the endpoint.
func (h *Webhooks) update(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	var p webhook.UpdateParams
	if err := DecodeJSON(w, r, &p); err != nil {
		return err
	}
	ep, err := h.svc.Update(r.Context(), id, p)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, ep)
}

// delete answers DELETE /api/v1/webhooks/{id} with 204.
func (h *Webhooks) delete(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.svc.Delete(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// WebhookTestResponse is the 202 answer of POST /api/v1/webhooks/{id}/test:
// the test event was published and its delivery is under way.
type WebhookTestResponse struct {
	EventID string `json:"event_id"`
	Seq     int64  `json:"seq"`
}

// test answers POST /api/v1/webhooks/{id}/test with 202.
func (h *Webhooks) test(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	ev, err := h.svc.SendTest(r.Context(), id)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusAccepted, WebhookTestResponse{EventID: ev.ID, Seq: ev.Seq})
}

// rotate answers POST /api/v1/webhooks/{id}/rotate (optional body:
// webhook.RotateParams) with the endpoint and its new secret.
func (h *Webhooks) rotate(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	var p webhook.RotateParams
	if r.ContentLength != 0 {
		if err := DecodeJSON(w, r, &p); err != nil {
			return err
		}
	}
	ep, err := h.svc.Rotate(r.Context(), id, p)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, ep)
}

// deliveries answers GET /api/v1/webhooks/{id}/deliveries?limit=&before=
// with the endpoint's attempts, newest first; before is an attempt id for
// paging.
func (h *Webhooks) deliveries(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	limit, err := QueryInt(r, "limit", 100)
	if err != nil {
		return err
	}
	if limit < 1 || limit > webhook.MaxListLimit {
		return dvr.Errorf(dvr.EINVALID, "query parameter limit must be between 1 and %d, got %d", webhook.MaxListLimit, limit)
	}
	before, err := QueryInt(r, "before", 0)
	if err != nil {
		return err
	}
	as, err := h.svc.ListAttempts(r.Context(), id, webhook.AttemptListParams{Limit: int(limit), Before: before})
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, NewList(as))
}

// replay answers POST /api/v1/deliveries/{id}/replay with 202 and the new
// delivery.
func (h *Webhooks) replay(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	d, err := h.svc.Replay(r.Context(), id)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusAccepted, d)
}

// WebhookReplayRequest is the body of POST /api/v1/webhooks/{id}/replay.
type WebhookReplayRequest struct {
	// Since is an RFC 3339 time: failed deliveries created since then are
	// replayed.
	Since string `json:"since"`
}

// WebhookReplayResponse is the answer of POST /api/v1/webhooks/{id}/replay.
type WebhookReplayResponse struct {
	Replayed int `json:"replayed"`
}

// replayFailed answers POST /api/v1/webhooks/{id}/replay with how many
// failed deliveries were replayed.
func (h *Webhooks) replayFailed(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	var req WebhookReplayRequest
	if err := DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Since) == "" {
		return dvr.Errorf(dvr.EINVALID, "since is required: an RFC 3339 time such as 2026-12-04T19:20:00Z")
	}
	since, err := time.Parse(time.RFC3339, req.Since)
	if err != nil {
		return dvr.Errorf(dvr.EINVALID, "since must be an RFC 3339 time such as 2026-12-04T19:20:00Z, got %q", req.Since)
	}
	n, err := h.svc.ReplayFailed(r.Context(), id, since)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, WebhookReplayResponse{Replayed: n})
}
