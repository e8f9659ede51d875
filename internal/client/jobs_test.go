package client_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/client"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/job"
)

func TestJobsAgainstServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	logger := quietLogger()
	svc, err := job.New(job.Config{TestOnly: true}, db, event.NewBus(db, nil), logger)
	require.NoError(t, err)
	c, err := client.New(serve(t, api.New(logger, api.NewJobs(svc))), "")
	require.NoError(t, err)

	jobs, err := c.ListJobs(ctx)
	require.NoError(t, err)
	require.Empty(t, jobs)

	stopped := make(chan struct{})
	tr := svc.Track(ctx, "capture:demo", "capture", map[string]any{"channel": "demo"}, func() { close(stopped) })
	tr.Progress(0.5, "30 segments")
	id, err := svc.RunNow(ctx, job.PruneEventsName)
	require.NoError(t, err)

	jobs, err = c.ListJobs(ctx)
	require.NoError(t, err)
	require.Len(t, jobs, 2)
	names := map[string]client.Job{}
	for _, j := range jobs {
		names[j.Name] = j
	}
	require.Equal(t, tr.ID(), names["capture:demo"].ID)
	require.Equal(t, 0.5, names["capture:demo"].Progress)
	require.Equal(t, "30 segments", names["capture:demo"].ProgressText)
	require.Equal(t, "demo", names["capture:demo"].Metadata["channel"])
	require.Equal(t, "pending", names[job.PruneEventsName+":"+id].State)

	require.NoError(t, c.CancelJob(ctx, tr.ID()))
	<-stopped
	require.NoError(t, c.CancelJob(ctx, id))
	hist, err := c.JobHistory(ctx, 0)
	require.NoError(t, err)
	require.Len(t, hist, 1)
	require.Equal(t, id, hist[0].ID)
	require.Equal(t, "cancelled", hist[0].State)

	var apiErr *client.APIError
	require.True(t, errors.As(c.CancelJob(ctx, "777"), &apiErr))
	require.Equal(t, 404, apiErr.Status)
	require.Equal(t, "not_found", apiErr.Code)
	require.True(t, errors.As(c.CancelJob(ctx, "a/b"), &apiErr))
	require.Equal(t, 400, apiErr.Status)
}
