package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lsdvr/lsdvr/internal/client"
	"github.com/lsdvr/lsdvr/internal/event"
)

func newJobCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "job",
		Short: "List and cancel jobs (conversions, downloads, captures, maintenance)",
	}
	cmd.AddCommand(newJobListCmd(g), newJobCancelCmd(g))
	return cmd
}

func newJobListCmd(g *globals) *cobra.Command {
	var (
		history bool
		limit   int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Print the pending and running jobs (--history: the recently finished ones)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if history {
				jobs, err := c.JobHistory(cmd.Context(), limit)
				if err != nil {
					return err
				}
				if g.json {
					return printJSON(out, jobs)
				}
				rows := make([]client.Job, len(jobs))
				for i, j := range jobs {
					rows[i] = client.Job{Name: j.Kind + ":" + j.ID, Job: j}
				}
				return writeJobTable(out, rows, time.Local)
			}
			jobs, err := c.ListJobs(cmd.Context())
			if err != nil {
				return err
			}
			return printList(g, out, jobs, "no jobs are pending or running",
				func() error { return writeJobTable(out, jobs, time.Local) })
		},
	}
	cmd.Flags().BoolVar(&history, "history", false, "list recently finished jobs instead, newest first")
	cmd.Flags().IntVar(&limit, "limit", 50, "with --history: at most this many jobs (1..1000)")
	return cmd
}

func newJobCancelCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a job by its id (a number, or t-... for a capture)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if err := c.CancelJob(cmd.Context(), args[0]); err != nil {
				return err
			}
			return printResult(g, cmd.OutOrStdout(), map[string]string{"id": args[0], "status": "cancel_requested"},
				"cancel requested for job %s\n", args[0])
		},
	}
}

// writeJobTable prints jobs as an aligned table with times in loc.
func writeJobTable(w io.Writer, jobs []client.Job, loc *time.Location) error {
	tw := newTable(w, "ID", "NAME", "KIND", "STATE", "PROGRESS", "UPDATED")
	for _, j := range jobs {
		state := j.State
		if j.Error != "" {
			state += " (" + truncate(strings.ReplaceAll(j.Error, "\n", " "), 60) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, j.Name, j.Kind, state, progressCell(j.Job, j.ProgressText), updatedCell(j.UpdatedAt, loc))
	}
	return tw.Flush()
}

// progressCell is "42%", "42% 120 MB", or "-" when nothing was reported.
func progressCell(j event.Job, text string) string {
	if j.Progress == 0 && text == "" {
		return "-"
	}
	cell := strconv.FormatFloat(math.Round(j.Progress*1000)/10, 'f', -1, 64) + "%"
	if text != "" {
		cell += " " + text
	}
	return cell
}

func updatedCell(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("2006-01-02 15:04:05")
}
