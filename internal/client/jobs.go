package client

import (
	"context"
	"github.com/lsdvr/lsdvr/internal/job"
	"net/http"
	"net/url"
	"strconv"

	"github.com/lsdvr/lsdvr/internal/event"
)

// Job is a job of the live list (GET /api/v1/jobs): the job of the job_*
// events plus its event name and latest progress text. It is the server's
// own type.
type Job = job.Live

// ListJobs returns the pending, running and retrying jobs, oldest first.
func (c *Client) ListJobs(ctx context.Context) ([]Job, error) {
	var out struct {
		Items []Job `json:"items"`
	}
	if err := c.Do(ctx, http.MethodGet, "/api/v1/jobs", nil, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// JobHistory returns up to limit recently finished jobs, newest first;
// limit 0 means the server's default (50).
func (c *Client) JobHistory(ctx context.Context, limit int) ([]event.Job, error) {
	path := "/api/v1/jobs/history"
	if limit > 0 {
		path += "?limit=" + strconv.Itoa(limit)
	}
	var out struct {
		Items []event.Job `json:"items"`
	}
	if err := c.Do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// CancelJob asks the server to cancel job id. It returns once the request
// is accepted; the job's job_update and job_clear events tell when it has
// ended. Unknown ids give an *APIError with status 404.
func (c *Client) CancelJob(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodPost, "/api/v1/jobs/"+url.PathEscape(id)+"/cancel", nil, nil)
}
