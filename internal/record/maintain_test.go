package record_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/record"
)

// TestRetentionJobDeletesOldest runs the periodic retention job (it runs
// once at start) over a channel keeping its last VOD.
func TestRetentionJobDeletesOldest(t *testing.T) {
	t.Parallel()
	cb := setupConvert(t, convOpts{jobs: true})
	c, err := cb.lib.CreateChannel(cb.ctx, record.ChannelParams{Name: "alice", URL: "https://alice.test/live", KeepLast: 1})
	require.NoError(t, err)
	var vods []dvr.VOD
	for i := range 3 {
		v, err := cb.lib.CreateVOD(cb.ctx, record.CreateVODParams{ChannelID: c.ID, StartedAt: t0.Add(time.Duration(i) * time.Hour)})
		require.NoError(t, err)
		_, err = cb.lib.UpdateVOD(cb.ctx, v.ID, record.VODPatch{Status: ptr(record.StatusFinalized)})
		require.NoError(t, err)
		writeVODFiles(t, cb.testBundle, v)
		vods = append(vods, v)
	}
	require.NoError(t, cb.lib.AddMaintenance(cb.jobs, time.Hour, record.RetentionOpts{}))
	cb.startJobs(t)

	removed := map[string]bool{}
	cb.seen.waitFor(t, "two vod_removed", func(a event.Action, data map[string]any) bool {
		if a == event.ActionVODRemoved {
			require.Equal(t, record.ReasonRetention, data["reason"])
			require.Equal(t, "alice", data["channel"])
			removed[data["basename"].(string)] = true
		}
		return len(removed) == 2
	})
	require.Equal(t, map[string]bool{vods[0].Basename: true, vods[1].Basename: true}, removed)
	// Folders go once the deletions have committed, before the job ends.
	cb.seen.waitFor(t, "the retention job to finish", func(a event.Action, data map[string]any) bool {
		name, _ := data["job_name"].(string)
		return a == event.ActionJobClear && strings.HasPrefix(name, record.RetentionJobName+":")
	})
	for _, v := range vods[:2] {
		_, err := cb.lib.GetVOD(cb.ctx, v.ID)
		require.True(t, dvr.IsNotFound(err))
		dir, err := record.VODDir(cb.storage, v.ChannelName, v.Basename)
		require.NoError(t, err)
		require.NoDirExists(t, dir)
	}
	_, err = cb.lib.GetVOD(cb.ctx, vods[2].ID)
	require.NoError(t, err)
}

func TestAddMaintenanceRejectsBadSettings(t *testing.T) {
	t.Parallel()
	cb := setupConvert(t, convOpts{jobs: true})
	err := cb.lib.AddMaintenance(cb.jobs, time.Hour, record.RetentionOpts{GlobalKeepGB: -1})
	require.Equal(t, dvr.EINVALID, dvr.ErrorCode(err))
	err = cb.lib.AddMaintenance(cb.jobs, 0, record.RetentionOpts{})
	require.Equal(t, dvr.EINVALID, dvr.ErrorCode(err))
	require.NoError(t, cb.lib.AddMaintenance(cb.jobs, time.Hour, record.RetentionOpts{}))
	err = cb.lib.AddMaintenance(cb.jobs, time.Hour, record.RetentionOpts{})
	require.Equal(t, dvr.ECONFLICT, dvr.ErrorCode(err))
}
