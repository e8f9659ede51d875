package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lsdvr/lsdvr/internal/media"
)

// doctorTool is one line of the doctor report.
type doctorTool struct {
	media.Tool
	Required bool   `json:"required"`
	Meaning  string `json:"meaning"`
}

// doctorReport is the doctor's --json output.
type doctorReport struct {
	OK    bool         `json:"ok"`
	Tools []doctorTool `json:"tools"`
}

func newDoctorCmd(g *globals) *cobra.Command {
	var paths media.ToolPaths
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check that ffmpeg, ffprobe and streamlink are installed",
		Long: "doctor looks for ffmpeg, ffprobe and streamlink (on PATH, or at the given paths),\n" +
			"prints their versions and what a missing one disables. It runs locally, not via the server,\n" +
			"and exits with status 1 when a required tool (ffmpeg, ffprobe) is missing.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			report := diagnose(media.FindTools(ctx, paths))
			if g.json {
				if err := printJSON(cmd.OutOrStdout(), report); err != nil {
					return err
				}
			} else {
				printDoctor(cmd.OutOrStdout(), report)
			}
			if !report.OK {
				var missing []string
				for _, t := range report.Tools {
					if t.Required && !t.Found {
						missing = append(missing, t.Name)
					}
				}
				return fmt.Errorf("required tool missing: %s", strings.Join(missing, ", "))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&paths.FFmpeg, "ffmpeg", "", "path of ffmpeg (default: found on PATH)")
	cmd.Flags().StringVar(&paths.FFprobe, "ffprobe", "", "path of ffprobe (default: found on PATH)")
	cmd.Flags().StringVar(&paths.Streamlink, "streamlink", "", "path of streamlink (default: found on PATH)")
	return cmd
}

// diagnose says what each tool's state means for recording.
func diagnose(tools media.Tools) doctorReport {
	r := doctorReport{OK: true}
	add := func(t media.Tool, required bool, ok, missing string) {
		d := doctorTool{Tool: t, Required: required, Meaning: ok}
		if !t.Found {
			d.Meaning = missing
			if required {
				r.OK = false
			}
		}
		r.Tools = append(r.Tools, d)
	}
	add(tools.FFmpeg, true,
		"captures HLS and converts recordings to MP4",
		"recording disabled until ffmpeg is installed: apt-get install ffmpeg")
	add(tools.FFprobe, true,
		"verifies recordings before the capture files are deleted",
		"conversion disabled until ffprobe is installed (it comes with ffmpeg): apt-get install ffmpeg")
	slOK := "records Twitch and every site streamlink supports"
	if t := tools.Streamlink; t.Found && t.Version.Known() && !t.Version.AtLeast(5, 0, 0) {
		slOK = fmt.Sprintf("too old: lsdvr needs streamlink %s or newer (pip install -U streamlink)", media.MinStreamlink)
	}
	add(tools.Streamlink, false, slOK,
		"Twitch and plugin-based capture disabled, plain HLS URLs still record with ffmpeg: apt-get install streamlink (or pip install streamlink)")
	return r
}

func printDoctor(w io.Writer, r doctorReport) {
	for _, t := range r.Tools {
		status := "ok"
		switch {
		case !t.Found && t.Required:
			status = "MISSING"
		case !t.Found:
			status = "missing"
		}
		fmt.Fprintf(w, "%-10s %-7s", t.Name, status)
		if t.Found {
			fmt.Fprintf(w, " %s (%s)\n", t.Version, t.Path)
		} else {
			fmt.Fprintf(w, " %s\n", t.Error)
		}
		fmt.Fprintf(w, "%18s %s\n", "", t.Meaning)
	}
}
