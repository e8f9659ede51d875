package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/job"
)

// jobsBundle is the testBundle of the jobs resource.
type jobsBundle struct {
	svc *job.Service
	url string
}

// setupJobs serves the jobs resource of a real, unstarted job service, so
// inserted jobs stay pending.
func setupJobs(t *testing.T) *jobsBundle {
	t.Helper()
	db := openDB(t)
	svc, err := job.New(job.Config{TestOnly: true}, db, event.NewBus(db, nil), quietLogger())
	require.NoError(t, err)
	return &jobsBundle{svc: svc, url: serve(t, api.NewJobs(svc))}
}

func TestJobsListAndCancel(t *testing.T) {
	t.Parallel()
	b := setupJobs(t)
	ctx := context.Background()

	status, raw := doJSON(t, b.url, http.MethodGet, "/api/v1/jobs", "")
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"items":[]}`, string(raw))

	cancelled := make(chan struct{})
	tr := b.svc.Track(ctx, "capture:demo", "capture", nil, func() { close(cancelled) })
	tr.Update(job.StateRunning, nil)
	tr.Progress(0.25, "12 segments")
	riverID, err := b.svc.RunNow(ctx, job.PruneEventsName)
	require.NoError(t, err)

	status, raw = doJSON(t, b.url, http.MethodGet, "/api/v1/jobs", "")
	require.Equal(t, http.StatusOK, status, string(raw))
	var list struct {
		Items []map[string]any `json:"items"`
	}
	require.NoError(t, json.Unmarshal(raw, &list))
	require.Len(t, list.Items, 2)
	byID := map[string]map[string]any{}
	for _, it := range list.Items {
		byID[it["id"].(string)] = it
	}
	capture := byID[tr.ID()]
	require.Equal(t, "capture:demo", capture["name"])
	require.Equal(t, "capture", capture["kind"])
	require.Equal(t, "running", capture["state"])
	require.Equal(t, 0.25, capture["progress"])
	require.Equal(t, "12 segments", capture["progress_text"])
	prune := byID[riverID]
	require.Equal(t, job.PruneEventsName+":"+riverID, prune["name"])
	require.Equal(t, "pending", prune["state"])
	require.Contains(t, prune, "created_at")
	require.Contains(t, prune, "updated_at")

	status, raw = doJSON(t, b.url, http.MethodPost, "/api/v1/jobs/"+tr.ID()+"/cancel", "")
	require.Equal(t, http.StatusAccepted, status, string(raw))
	require.JSONEq(t, `{"id":"`+tr.ID()+`"}`, string(raw))
	<-cancelled

	status, raw = doJSON(t, b.url, http.MethodPost, "/api/v1/jobs/"+riverID+"/cancel", "")
	require.Equal(t, http.StatusAccepted, status, string(raw))
	status, raw = doJSON(t, b.url, http.MethodGet, "/api/v1/jobs/history?limit=5", "")
	require.Equal(t, http.StatusOK, status, string(raw))
	var hist struct {
		Items []event.Job `json:"items"`
	}
	require.NoError(t, json.Unmarshal(raw, &hist))
	require.Len(t, hist.Items, 1)
	require.Equal(t, riverID, hist.Items[0].ID)
	require.Equal(t, "cancelled", hist.Items[0].State)
	require.Equal(t, job.PruneEventsName, hist.Items[0].Kind)

	// Finished now: cancelling again is a conflict only for completed or
	// failed jobs; a cancelled one stays cancelled.
	status, _ = doJSON(t, b.url, http.MethodPost, "/api/v1/jobs/"+riverID+"/cancel", "")
	require.Equal(t, http.StatusAccepted, status)
}

func TestJobsCancelErrors(t *testing.T) {
	t.Parallel()
	b := setupJobs(t)
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodPost, "/api/v1/jobs/999/cancel", http.StatusNotFound, "not_found"},
		{http.MethodPost, "/api/v1/jobs/t-01abc/cancel", http.StatusNotFound, "not_found"},
		{http.MethodPost, "/api/v1/jobs/abc/cancel", http.StatusBadRequest, "invalid"},
		{http.MethodPost, "/api/v1/jobs/0/cancel", http.StatusBadRequest, "invalid"},
		{http.MethodPost, "/api/v1/jobs/t-Nope/cancel", http.StatusBadRequest, "invalid"},
		{http.MethodGet, "/api/v1/jobs/history?limit=0", http.StatusBadRequest, "invalid"},
		{http.MethodGet, "/api/v1/jobs/history?limit=many", http.StatusBadRequest, "invalid"},
	} {
		status, raw := doJSON(t, b.url, tc.method, tc.path, "")
		require.Equal(t, tc.status, status, tc.path)
		var body api.ErrorBody
		require.NoError(t, json.Unmarshal(raw, &body), tc.path)
		require.Equal(t, tc.code, body.Error.Code, tc.path)
		require.NotEmpty(t, body.Error.Message, tc.path)
	}
}
