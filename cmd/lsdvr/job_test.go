package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/client"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/job"
)

// jobCLIBundle is the testBundle of the job subcommands: a real job
// service behind the HTTP API on 127.0.0.1.
type jobCLIBundle struct {
	cliServer
	svc *job.Service
}

func setupJobCLI(t *testing.T) *jobCLIBundle {
	t.Helper()
	db := openDB(t)
	svc, err := job.New(job.Config{TestOnly: true}, db, event.NewBus(db, nil), quietLogger())
	require.NoError(t, err)
	return &jobCLIBundle{cliServer: cliServer{url: serveAPI(t, api.NewJobs(svc))}, svc: svc}
}

func TestJobListAndCancelCommands(t *testing.T) {
	t.Parallel()
	b := setupJobCLI(t)
	ctx := context.Background()

	out, err := b.run(t, "job", "list")
	require.NoError(t, err)
	require.Equal(t, "no jobs are pending or running\n", out)
	out, err = b.run(t, "job", "list", "--json")
	require.NoError(t, err)
	require.JSONEq(t, `[]`, out)

	cancelled := make(chan struct{})
	tr := b.svc.Track(ctx, "capture:demo", "capture", nil, func() { close(cancelled) })
	tr.Update(job.StateRunning, nil)
	tr.Progress(0.425, "120 MB")

	out, err = b.run(t, "job", "list")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2)
	require.Equal(t, []string{"ID", "NAME", "KIND", "STATE", "PROGRESS", "UPDATED"}, strings.Fields(lines[0]))
	row := strings.Fields(lines[1])
	require.Equal(t, []string{tr.ID(), "capture:demo", "capture", "running", "42.5%", "120", "MB"}, row[:7])

	out, err = b.run(t, "job", "list", "--json")
	require.NoError(t, err)
	var jobs []client.Job
	require.NoError(t, json.Unmarshal([]byte(out), &jobs))
	require.Len(t, jobs, 1)
	require.Equal(t, "capture:demo", jobs[0].Name)
	require.Equal(t, 0.425, jobs[0].Progress)

	out, err = b.run(t, "job", "cancel", tr.ID())
	require.NoError(t, err)
	require.Equal(t, "cancel requested for job "+tr.ID()+"\n", out)
	<-cancelled

	_, err = b.run(t, "job", "cancel", "12345")
	var apiErr *client.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 404, apiErr.Status)
	_, err = b.run(t, "job", "cancel", "not-an-id")
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, 400, apiErr.Status)

	id, err := b.svc.RunNow(ctx, job.PruneEventsName)
	require.NoError(t, err)
	_, err = b.run(t, "job", "cancel", id)
	require.NoError(t, err)
	out, err = b.run(t, "job", "list", "--history")
	require.NoError(t, err)
	require.Contains(t, out, job.PruneEventsName+":"+id)
	require.Contains(t, out, "cancelled")
}

func TestWriteJobTable(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 4, 19, 20, 0, 0, time.UTC)
	var buf bytes.Buffer
	require.NoError(t, writeJobTable(&buf, []client.Job{
		{Name: "convert:7", Job: event.Job{ID: "7", Kind: "convert", State: "retryable", Error: "ffmpeg exited 1", UpdatedAt: at}},
		{Name: "capture:demo", Job: event.Job{ID: "t-01x", Kind: "capture", State: "running", Progress: 1}},
	}, time.UTC))
	require.Equal(t, ""+
		"ID     NAME          KIND     STATE                        PROGRESS  UPDATED\n"+
		"7      convert:7     convert  retryable (ffmpeg exited 1)  -         2026-12-04 19:20:00\n"+
		"t-01x  capture:demo  capture  running                      100%      -\n",
		buf.String())
}
