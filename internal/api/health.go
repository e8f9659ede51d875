package api

import (
	"context"
	"net/http"
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
)

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Health serves GET /healthz and the events schema.
type Health struct {
	DB      Pinger
	Version string
}

// Routes implements Resource.
func (h *Health) Routes() []Route {
	return []Route{
		{"GET /healthz", h.healthz},
		{"GET /api/v1/events/schema", h.schema},
	}
}

func (h *Health) healthz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := h.DB.Ping(ctx); err != nil {
		return dvr.Errorf(dvr.EUNAVAILABLE, "database does not answer: %v", err)
	}
	return WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": h.Version})
}

func (h *Health) schema(w http.ResponseWriter, r *http.Request) error {
	body, err := event.Schema()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/schema+json")
	_, err = w.Write(body)
	return err
}
