package api

import (
	"context"
	"net/http"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/record"
)

// VODLibrary is what the VODs resource needs of the library;
// *record.Library implements it.
type VODLibrary interface {
	ListVODs(ctx context.Context, p record.ListVODsParams) (record.VODPage, error)
	GetVOD(ctx context.Context, id int64) (dvr.VOD, error)
	SetProtected(ctx context.Context, id int64, protected bool) (dvr.VOD, error)
	DeleteVOD(ctx context.Context, id int64, reason string) error
}

// VODs serves /api/v1/vods: recordings with their chapters and files.
type VODs struct {
	lib VODLibrary
}

// NewVODs returns the VODs resource over lib.
func NewVODs(lib VODLibrary) *VODs { return &VODs{lib: lib} }

// Routes implements Resource.
func (v *VODs) Routes() []Route {
	return []Route{
		{"GET /api/v1/vods", v.list},
		{"GET /api/v1/vods/{id}", v.get},
		{"PATCH /api/v1/vods/{id}", v.update},
		{"DELETE /api/v1/vods/{id}", v.delete},
	}
}

// list answers GET /api/v1/vods?channel=ID&limit=N&cursor=C, newest first,
// as {"items":[...],"next_cursor":"..."}; next_cursor is "" on the last page.
func (v *VODs) list(w http.ResponseWriter, r *http.Request) error {
	channel, err := QueryInt(r, "channel", 0)
	if err != nil {
		return err
	}
	if channel < 0 {
		return dvr.Errorf(dvr.EINVALID, "query parameter channel must be a positive channel id, got %d", channel)
	}
	limit, err := QueryInt(r, "limit", record.DefaultVODLimit)
	if err != nil {
		return err
	}
	if limit < 1 || limit > record.MaxVODLimit {
		return dvr.Errorf(dvr.EINVALID, "query parameter limit must be between 1 and %d, got %d", record.MaxVODLimit, limit)
	}
	page, err := v.lib.ListVODs(r.Context(), record.ListVODsParams{
		ChannelID: channel, Limit: int(limit), Cursor: r.URL.Query().Get("cursor"),
	})
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, page)
}

func (v *VODs) get(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	vod, err := v.lib.GetVOD(r.Context(), id)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, vod)
}

// VODPatchRequest is the body of PATCH /api/v1/vods/{id}.
type VODPatchRequest struct {
	Protected *bool `json:"protected"` // required
}

// update answers PATCH /api/v1/vods/{id} {"protected":bool} with the VOD.
func (v *VODs) update(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	var req VODPatchRequest
	if err := DecodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Protected == nil {
		return dvr.Errorf(dvr.EINVALID, "protected is required (true or false)")
	}
	vod, err := v.lib.SetProtected(r.Context(), id, *req.Protected)
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, vod)
}

// delete answers DELETE /api/v1/vods/{id} with 204; the VOD's files are
// removed and vod_removed is published with reason "manual".
func (v *VODs) delete(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	if err := v.lib.DeleteVOD(r.Context(), id, record.ReasonManual); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
