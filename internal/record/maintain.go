package record

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/job"
)

// RetentionJobName is the periodic job that applies retention.
const RetentionJobName = "record.retention"

// AddMaintenance registers the periodic job RetentionJobName on jobs: every
// interval (and once at start) it runs ApplyRetention with opts, so each VOD
// beyond its channel's keep_last or keep_gb, or beyond opts.GlobalKeepGB, is
// deleted with its files and announced by vod_removed (reason "retention").
// Errors: EINVALID for a non-positive interval or a negative or NaN
// GlobalKeepGB; ECONFLICT when it was already added.
func (l *Library) AddMaintenance(jobs *job.Service, every time.Duration, opts RetentionOpts) error {
	if opts.GlobalKeepGB < 0 || math.IsNaN(opts.GlobalKeepGB) || math.IsInf(opts.GlobalKeepGB, 0) {
		return dvr.Errorf(dvr.EINVALID, "global keep_gb must be 0 (no limit) or more, got %g", opts.GlobalKeepGB)
	}
	return jobs.AddPeriodic(RetentionJobName, every, func(ctx context.Context) error {
		deleted, err := l.ApplyRetention(ctx, opts)
		job.ReportProgress(ctx, 1, fmt.Sprintf("%d VODs deleted", len(deleted)))
		return err
	})
}
