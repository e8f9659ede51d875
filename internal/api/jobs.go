package api

import (
	"context"
	"net/http"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/job"
)

// JobService is what the jobs resource needs of the job service;
// *job.Service implements it.
type JobService interface {
	List(ctx context.Context) ([]job.Live, error)
	History(ctx context.Context, limit int) ([]event.Job, error)
	Cancel(ctx context.Context, id string) error
}

var _ JobService = (*job.Service)(nil)

// DefaultJobHistory is how many finished jobs GET /api/v1/jobs/history
// returns without a limit.
const DefaultJobHistory = 50

// Jobs serves the live job list, recently finished jobs and cancellation.
type Jobs struct {
	svc JobService
}

// NewJobs returns the jobs resource.
func NewJobs(svc JobService) *Jobs { return &Jobs{svc: svc} }

// Routes implements Resource.
func (j *Jobs) Routes() []Route {
	return []Route{
		{"GET /api/v1/jobs", j.list},
		{"GET /api/v1/jobs/history", j.history},
		{"POST /api/v1/jobs/{id}/cancel", j.cancel},
	}
}

// list answers GET /api/v1/jobs with {"items":[...]}: the pending, running
// and retrying jobs, oldest first.
func (j *Jobs) list(w http.ResponseWriter, r *http.Request) error {
	jobs, err := j.svc.List(r.Context())
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, NewList(jobs))
}

// history answers GET /api/v1/jobs/history?limit=N (1..1000, default 50)
// with the most recently finished jobs first.
func (j *Jobs) history(w http.ResponseWriter, r *http.Request) error {
	limit, err := QueryInt(r, "limit", DefaultJobHistory)
	if err != nil {
		return err
	}
	if limit < 1 || limit > job.MaxHistory {
		return dvr.Errorf(dvr.EINVALID, "query parameter limit must be between 1 and %d, got %d", job.MaxHistory, limit)
	}
	jobs, err := j.svc.History(r.Context(), int(limit))
	if err != nil {
		return err
	}
	return WriteJSON(w, http.StatusOK, NewList(jobs))
}

// JobCancelResponse is the 202 answer of POST /api/v1/jobs/{id}/cancel:
// the cancellation was requested; the job's job_update and job_clear
// events tell when it has ended.
type JobCancelResponse struct {
	ID string `json:"id"`
}

// cancel answers POST /api/v1/jobs/{id}/cancel. The id is a River job id
// (a positive integer) or a tracked job id ("t-..."); 400 for anything
// else, 404 for an unknown job, 409 for one that has already finished.
func (j *Jobs) cancel(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := job.ParseID(id); err != nil {
		return err
	}
	if err := j.svc.Cancel(r.Context(), id); err != nil {
		return err
	}
	return WriteJSON(w, http.StatusAccepted, JobCancelResponse{ID: id})
}
