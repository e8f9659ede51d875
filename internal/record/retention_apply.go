package record

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/store"
)

// RetentionOpts are the library-wide retention settings (per-channel limits
// live on the channels).
type RetentionOpts struct {
	GlobalKeepGB float64 // all channels together, in GB of 10^9 bytes; 0: no limit
}

// ApplyRetention reads every VOD and channel limit, plans with Plan and
// deletes each planned VOD with DeleteVOD (reason "retention"). It returns
// what it deleted. A VOD that cannot be deleted (it vanished, or started
// converting meanwhile) is skipped and the others are still deleted; the
// errors are joined in the returned error.
func (l *Library) ApplyRetention(ctx context.Context, opts RetentionOpts) ([]Deletion, error) {
	if opts.GlobalKeepGB < 0 || math.IsNaN(opts.GlobalKeepGB) {
		return nil, dvr.Errorf(dvr.EINVALID, "global keep_gb must be 0 (no limit) or more, got %g", opts.GlobalKeepGB)
	}
	vods, policy, err := l.retentionInput(ctx)
	if err != nil {
		return nil, err
	}
	policy.GlobalBytes = int64(opts.GlobalKeepGB * BytesPerGB)
	plan := Plan(vods, policy)
	var (
		done []Deletion
		errs []error
	)
	for _, d := range plan {
		if err := l.DeleteVOD(ctx, d.VODID, ReasonRetention); err != nil {
			if dvr.IsNotFound(err) {
				continue
			}
			errs = append(errs, fmt.Errorf("retention: delete vod %d (%s): %w", d.VODID, d.Basename, err))
			continue
		}
		l.logger.Info("retention deleted vod", "vod_id", d.VODID, "basename", d.Basename, "rule", d.Rule, "reason", d.Reason)
		done = append(done, d)
	}
	return done, errors.Join(errs...)
}

// retentionInput reads the VODs and channel limits retention plans over.
func (l *Library) retentionInput(ctx context.Context) ([]RetentionVOD, Policy, error) {
	policy := Policy{Channels: map[int64]ChannelPolicy{}}
	rows, err := l.db.Read.QueryContext(ctx, `SELECT id, keep_last, keep_gb FROM channels WHERE keep_last > 0 OR keep_gb > 0`)
	if err != nil {
		return nil, Policy{}, fmt.Errorf("read retention limits: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id       int64
			keepLast int
			keepGB   float64
		)
		if err := rows.Scan(&id, &keepLast, &keepGB); err != nil {
			return nil, Policy{}, fmt.Errorf("read retention limits: %w", err)
		}
		policy.Channels[id] = ChannelPolicy{KeepLast: keepLast, KeepBytes: int64(keepGB * BytesPerGB)}
	}
	if err := rows.Err(); err != nil {
		return nil, Policy{}, fmt.Errorf("read retention limits: %w", err)
	}
	rows.Close()

	rows, err = l.db.Read.QueryContext(ctx, `SELECT id, channel_id, basename, started_at, size_bytes, status, protected FROM vods`)
	if err != nil {
		return nil, Policy{}, fmt.Errorf("read vods for retention: %w", err)
	}
	defer rows.Close()
	var vods []RetentionVOD
	for rows.Next() {
		var (
			v         RetentionVOD
			started   int64
			protected int
		)
		if err := rows.Scan(&v.ID, &v.ChannelID, &v.Basename, &started, &v.SizeBytes, &v.Status, &protected); err != nil {
			return nil, Policy{}, fmt.Errorf("read vods for retention: %w", err)
		}
		v.StartedAt, v.Protected = store.FromMilli(started), protected != 0
		vods = append(vods, v)
	}
	if err := rows.Err(); err != nil {
		return nil, Policy{}, fmt.Errorf("read vods for retention: %w", err)
	}
	return vods, policy, nil
}
