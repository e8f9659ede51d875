package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/record"
)

// ChannelLibrary is what the channels resource needs of the library;
// *record.Library implements it.
type ChannelLibrary interface {
	CreateChannel(ctx context.Context, p record.ChannelParams) (dvr.Channel, error)
	GetChannel(ctx context.Context, id int64) (dvr.Channel, error)
	ListChannels(ctx context.Context) ([]dvr.Channel, error)
	UpdateChannel(ctx context.Context, id int64, p record.ChannelPatch) (dvr.Channel, error)
	DeleteChannel(ctx context.Context, id int64, deleteVODs bool) error
}

// Channels serves /api/v1/channels: the watched channels and their settings.
type Channels struct {
	lib ChannelLibrary
}

// NewChannels returns the channels resource over lib.
func NewChannels(lib ChannelLibrary) *Channels { return &Channels{lib: lib} }

// Routes implements Resource.
func (c *Channels) Routes() []Route {
	return []Route{
		{"GET /api/v1/channels", c.list},
		{"POST /api/v1/channels", c.create},
		{"GET /api/v1/channels/{id}", c.get},
		{"PATCH /api/v1/channels/{id}", c.update},
		{"DELETE /api/v1/channels/{id}", c.delete},
	}
}

// list answers GET /api/v1/channels with every channel, by name.
func (c *Channels) list(w http.ResponseWriter, r *http.Request) error {
	items, err := c.lib.ListChannels(r.Context())
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, NewList(items))
}

// create answers POST /api/v1/channels (body: record.ChannelParams) with 201
// and the channel as stored.
func (c *Channels) create(w http.ResponseWriter, r *http.Request) error {
	var p record.ChannelParams
	if err := DecodeJSON(w, r, &p); err != nil {
		return err
	}
	ch, err := c.lib.CreateChannel(r.Context(), p)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusCreated, ch)
}

func (c *Channels) get(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	ch, err := c.lib.GetChannel(r.Context(), id)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, ch)
}

// update answers PATCH /api/v1/channels/{id} (body: record.ChannelPatch;
// absent fields are left as they are).
func (c *Channels) update(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	var p record.ChannelPatch
	if err := DecodeJSON(w, r, &p); err != nil {
		return err
	}
	ch, err := c.lib.UpdateChannel(r.Context(), id, p)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, ch)
}

// delete answers DELETE /api/v1/channels/{id}[?delete_vods=true] with 204.
func (c *Channels) delete(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	deleteVODs, err := queryBool(r, "delete_vods")
	if err != nil {
		return err
	}
	if err := c.lib.DeleteChannel(r.Context(), id, deleteVODs); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// queryBool parses an optional boolean query parameter (absent: false).
func queryBool(r *http.Request, name string) (bool, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return false, nil
	}
	v, err := strconv.ParseBool(raw)
	if err != nil {
		return false, dvr.Errorf(dvr.EINVALID, "query parameter %s must be true or false, got %q", name, raw)
	}
	return v, nil
}
