package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/lsdvr/lsdvr/internal/config"
	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
)

// ConfigStore is what the config routes need; *config.Config implements it.
type ConfigStore interface {
	Redacted() map[string]any
	Sources() map[string]config.Source
	Options() []config.Option
	Apply(ctx context.Context, changes map[string]any) (config.Result, error)
}

// EventPublisher publishes an event in a transaction of its own;
// *event.Bus implements it.
type EventPublisher interface {
	PublishNow(ctx context.Context, data event.Data) (*event.Event, error)
}

var (
	_ ConfigStore    = (*config.Config)(nil)
	_ EventPublisher = (*event.Bus)(nil)
)

// ConfigResource serves GET and PUT /api/v1/config.
type ConfigResource struct {
	cfg ConfigStore
	bus EventPublisher
}

// NewConfigResource returns the config routes over cfg, publishing
// config_save events on bus.
func NewConfigResource(cfg ConfigStore, bus EventPublisher) *ConfigResource {
	return &ConfigResource{cfg: cfg, bus: bus}
}

// ConfigView is the body of GET /api/v1/config.
type ConfigView struct {
	// Config is every key's value, secrets shown as "********" when set.
	Config map[string]any `json:"config"`
	// Sources says where each value came from: default, file or env.
	Sources map[string]config.Source `json:"sources"`
	// Options documents every key.
	Options []config.Option `json:"options"`
}

// ConfigUpdate is the body of a successful PUT /api/v1/config.
type ConfigUpdate struct {
	Changed         []string       `json:"changed"`
	RestartRequired []string       `json:"restart_required"`
	Config          map[string]any `json:"config"`
}

// Routes implements Resource.
func (res *ConfigResource) Routes() []Route {
	return []Route{
		{Pattern: "GET /api/v1/config", Handler: res.get},
		{Pattern: "PUT /api/v1/config", Handler: res.put},
	}
}

func (res *ConfigResource) get(w http.ResponseWriter, r *http.Request) error {
	return WriteJSON(w, http.StatusOK, ConfigView{
		Config:  res.cfg.Redacted(),
		Sources: res.cfg.Sources(),
		Options: res.cfg.Options(),
	})
}

// put applies a partial update: {"key": value, ...}. Bad keys or values are
// EINVALID, keys set by the environment ECONFLICT; nothing is saved then.
// A change publishes config_save with secrets redacted; no change publishes
// nothing.
func (res *ConfigResource) put(w http.ResponseWriter, r *http.Request) error {
	var body any
	if err := DecodeJSON(w, r, &body); err != nil {
		return err
	}
	changes, ok := body.(map[string]any)
	if !ok {
		return dvr.Errorf(dvr.EINVALID, "body must be a JSON object of config keys and values, e.g. {\"webhook.timeout\": \"30s\"}")
	}
	result, err := res.cfg.Apply(r.Context(), changes)
	if err != nil {
		return err
	}
	redacted := res.cfg.Redacted()
	if len(result.Changed) > 0 {
		if _, err := res.bus.PublishNow(r.Context(), event.ConfigSave{Changed: result.Changed, Config: redacted}); err != nil {
			return fmt.Errorf("publish config_save: %w", err)
		}
	}
	return WriteJSON(w, http.StatusOK, ConfigUpdate{
		Changed:         result.Changed,
		RestartRequired: result.RestartRequired,
		Config:          redacted,
	})
}
