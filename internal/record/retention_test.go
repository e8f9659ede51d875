package record_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/record"
)

// rv builds a RetentionVOD: id, channel, start in hours after t0, size in
// GB, and optional status/protection.
func rv(id, ch int64, hour int, gb float64, opts ...string) record.RetentionVOD {
	v := record.RetentionVOD{ID: id, ChannelID: ch, StartedAt: t0.Add(time.Duration(hour) * time.Hour),
		SizeBytes: int64(gb * record.BytesPerGB), Status: record.StatusFinalized}
	for _, o := range opts {
		if o == "protected" {
			v.Protected = true
		} else {
			v.Status = o
		}
	}
	return v
}

// planned is what a test expects of a deletion: id and rule.
type planned struct {
	id   int64
	rule string
}

func TestPlan(t *testing.T) {
	t.Parallel()
	const gb = int64(record.BytesPerGB)
	cases := []struct {
		name   string
		vods   []record.RetentionVOD
		policy record.Policy
		want   []planned
	}{
		{"empty library", nil, record.Policy{GlobalBytes: 1}, nil},
		{"no limits", []record.RetentionVOD{rv(1, 1, 0, 5), rv(2, 1, 1, 5)}, record.Policy{}, nil},
		{
			"keep last 2 deletes the oldest",
			[]record.RetentionVOD{rv(3, 1, 2, 1), rv(1, 1, 0, 1), rv(4, 1, 3, 1), rv(2, 1, 1, 1)},
			record.Policy{Channels: map[int64]record.ChannelPolicy{1: {KeepLast: 2}}},
			[]planned{{1, record.RuleKeepLast}, {2, record.RuleKeepLast}},
		},
		{
			"keep last at exactly the limit deletes nothing",
			[]record.RetentionVOD{rv(1, 1, 0, 1), rv(2, 1, 1, 1)},
			record.Policy{Channels: map[int64]record.ChannelPolicy{1: {KeepLast: 2}}},
			nil,
		},
		{
			"keep last applies per channel",
			[]record.RetentionVOD{rv(1, 1, 0, 1), rv(2, 2, 1, 1), rv(3, 1, 2, 1), rv(4, 2, 3, 1)},
			record.Policy{Channels: map[int64]record.ChannelPolicy{1: {KeepLast: 1}}},
			[]planned{{1, record.RuleKeepLast}},
		},
		{
			"protected VODs count towards keep last and are never deleted",
			[]record.RetentionVOD{rv(1, 1, 0, 1, "protected"), rv(2, 1, 1, 1), rv(3, 1, 2, 1, "protected"), rv(4, 1, 3, 1)},
			record.Policy{Channels: map[int64]record.ChannelPolicy{1: {KeepLast: 1}}},
			[]planned{{2, record.RuleKeepLast}},
		},
		{
			"in-progress VODs neither count nor get deleted",
			[]record.RetentionVOD{rv(1, 1, 0, 1), rv(2, 1, 1, 1), rv(3, 1, 2, 1, record.StatusConverting), rv(4, 1, 3, 1, record.StatusCapturing)},
			record.Policy{Channels: map[int64]record.ChannelPolicy{1: {KeepLast: 1}}},
			[]planned{{1, record.RuleKeepLast}},
		},
		{
			"failed and interrupted VODs are finished and deletable",
			[]record.RetentionVOD{rv(1, 1, 0, 1, record.StatusFailed), rv(2, 1, 1, 1, record.StatusInterrupted), rv(3, 1, 2, 1)},
			record.Policy{Channels: map[int64]record.ChannelPolicy{1: {KeepLast: 1}}},
			[]planned{{1, record.RuleKeepLast}, {2, record.RuleKeepLast}},
		},
		{
			"channel size deletes oldest until under the limit",
			[]record.RetentionVOD{rv(1, 1, 0, 2), rv(2, 1, 1, 2), rv(3, 1, 2, 2), rv(4, 1, 3, 2)},
			record.Policy{Channels: map[int64]record.ChannelPolicy{1: {KeepBytes: 5 * gb}}},
			[]planned{{1, record.RuleChannelSize}, {2, record.RuleChannelSize}},
		},
		{
			"channel size exactly at the limit deletes nothing",
			[]record.RetentionVOD{rv(1, 1, 0, 2), rv(2, 1, 1, 3)},
			record.Policy{Channels: map[int64]record.ChannelPolicy{1: {KeepBytes: 5 * gb}}},
			nil,
		},
		{
			"channel size counts protected and capturing bytes but skips them",
			[]record.RetentionVOD{rv(1, 1, 0, 3, "protected"), rv(2, 1, 1, 1), rv(3, 1, 2, 1), rv(4, 1, 3, 3, record.StatusCapturing)},
			record.Policy{Channels: map[int64]record.ChannelPolicy{1: {KeepBytes: 7 * gb}}},
			[]planned{{2, record.RuleChannelSize}},
		},
		{
			"a limit only protected VODs exceed deletes nothing",
			[]record.RetentionVOD{rv(1, 1, 0, 10, "protected"), rv(2, 1, 1, 10, record.StatusCapturing)},
			record.Policy{Channels: map[int64]record.ChannelPolicy{1: {KeepLast: 1, KeepBytes: gb}}, GlobalBytes: gb},
			nil,
		},
		{
			"keep last frees space before the size rule is applied",
			[]record.RetentionVOD{rv(1, 1, 0, 4), rv(2, 1, 1, 4), rv(3, 1, 2, 4)},
			record.Policy{Channels: map[int64]record.ChannelPolicy{1: {KeepLast: 2, KeepBytes: 8 * gb}}},
			[]planned{{1, record.RuleKeepLast}},
		},
		{
			"both channel rules claim different VODs",
			[]record.RetentionVOD{rv(1, 1, 0, 4), rv(2, 1, 1, 4), rv(3, 1, 2, 4), rv(4, 1, 3, 4)},
			record.Policy{Channels: map[int64]record.ChannelPolicy{1: {KeepLast: 3, KeepBytes: 5 * gb}}},
			[]planned{{1, record.RuleKeepLast}, {2, record.RuleChannelSize}, {3, record.RuleChannelSize}},
		},
		{
			"global size deletes the oldest across channels",
			[]record.RetentionVOD{rv(1, 1, 0, 2), rv(2, 2, 1, 2), rv(3, 1, 2, 2), rv(4, 2, 3, 2)},
			record.Policy{GlobalBytes: 4 * gb},
			[]planned{{1, record.RuleGlobalSize}, {2, record.RuleGlobalSize}},
		},
		{
			"global size counts what channel rules already freed",
			[]record.RetentionVOD{rv(1, 1, 0, 2), rv(2, 2, 1, 2), rv(3, 1, 2, 2), rv(4, 2, 3, 2)},
			record.Policy{Channels: map[int64]record.ChannelPolicy{1: {KeepLast: 1}}, GlobalBytes: 5 * gb},
			[]planned{{1, record.RuleKeepLast}, {2, record.RuleGlobalSize}},
		},
		{
			"global size skips protected and in-progress VODs",
			[]record.RetentionVOD{rv(1, 1, 0, 2, "protected"), rv(2, 2, 1, 2, record.StatusConverting), rv(3, 1, 2, 2), rv(4, 2, 3, 2)},
			record.Policy{GlobalBytes: 5 * gb},
			[]planned{{3, record.RuleGlobalSize}, {4, record.RuleGlobalSize}},
		},
		{
			"equal starts are ordered by id",
			[]record.RetentionVOD{rv(7, 1, 0, 1), rv(5, 1, 0, 1), rv(6, 1, 0, 1)},
			record.Policy{Channels: map[int64]record.ChannelPolicy{1: {KeepLast: 1}}},
			[]planned{{5, record.RuleKeepLast}, {6, record.RuleKeepLast}},
		},
		{
			"a channel without a policy is only subject to the global limit",
			[]record.RetentionVOD{rv(1, 9, 0, 1), rv(2, 9, 1, 1)},
			record.Policy{Channels: map[int64]record.ChannelPolicy{1: {KeepLast: 1}}},
			nil,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := append([]record.RetentionVOD(nil), tc.vods...)
			got := record.Plan(tc.vods, tc.policy)
			var gotPlanned []planned
			for _, d := range got {
				gotPlanned = append(gotPlanned, planned{d.VODID, d.Rule})
				require.NotEmpty(t, d.Reason)
			}
			require.Equal(t, tc.want, gotPlanned)
			require.Equal(t, in, tc.vods, "Plan does not modify its input")
		})
	}
}

func TestPlanReasonsSayWhy(t *testing.T) {
	t.Parallel()
	vods := []record.RetentionVOD{rv(1, 1, 0, 3), rv(2, 1, 1, 3), rv(3, 2, 2, 3), rv(4, 1, 3, 3)}
	got := record.Plan(vods, record.Policy{Channels: map[int64]record.ChannelPolicy{1: {KeepLast: 2}}, GlobalBytes: int64(6 * record.BytesPerGB)})
	require.Equal(t, []record.Deletion{
		{VODID: 1, ChannelID: 1, Rule: record.RuleKeepLast, Reason: "channel keeps its newest 2 VODs"},
		{VODID: 2, ChannelID: 1, Rule: record.RuleGlobalSize, Reason: "the library keeps at most 6.00 GB of VODs and had 9.00 GB"},
	}, got)
}

func TestApplyRetention(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	c, err := tb.lib.CreateChannel(tb.ctx, record.ChannelParams{Name: "demo", URL: "https://a.test/", KeepLast: 2})
	require.NoError(t, err)
	other := newChannel(t, tb, "other")

	mk := func(ch int64, hour int, status string, size int64) (int64, string) {
		v, err := tb.lib.CreateVOD(tb.ctx, record.CreateVODParams{ChannelID: ch, StartedAt: t0.Add(time.Duration(hour) * time.Hour)})
		require.NoError(t, err)
		_, err = tb.lib.UpdateVOD(tb.ctx, v.ID, record.VODPatch{Status: &status, SizeBytes: &size})
		require.NoError(t, err)
		return v.ID, writeVODFiles(t, tb, v)
	}
	oldest, oldestDir := mk(c.ID, 0, record.StatusFinalized, 1e9)
	prot, protDir := mk(c.ID, 1, record.StatusFinalized, 1e9)
	_, err = tb.lib.SetProtected(tb.ctx, prot, true)
	require.NoError(t, err)
	mk(c.ID, 2, record.StatusFinalized, 1e9)
	mk(c.ID, 3, record.StatusFinalized, 1e9)
	mk(c.ID, 4, record.StatusCapturing, 1e9)
	otherOld, otherOldDir := mk(other.ID, 0, record.StatusFinalized, 3e9)
	mk(other.ID, 5, record.StatusFinalized, 1e9)

	done, err := tb.lib.ApplyRetention(tb.ctx, record.RetentionOpts{GlobalKeepGB: 5})
	require.NoError(t, err)
	var ids []int64
	for _, d := range done {
		ids = append(ids, d.VODID)
	}
	// demo keeps its 2 newest finished VODs (the protected one survives
	// anyway); the library is then 7 GB and sheds the oldest other VOD.
	require.Equal(t, []int64{oldest, otherOld}, ids)
	require.NoDirExists(t, oldestDir)
	require.NoDirExists(t, otherOldDir)
	require.DirExists(t, protDir)

	var removed []map[string]any
	for _, ev := range tb.events(t) {
		if ev.Action == event.ActionVODRemoved {
			removed = append(removed, ev.Data)
		}
	}
	require.Equal(t, []map[string]any{
		{"basename": "demo_20261204T192000Z", "channel": "demo", "reason": "retention"},
		{"basename": "other_20261204T192000Z", "channel": "other", "reason": "retention"},
	}, removed)

	// A second run finds nothing more to do.
	done, err = tb.lib.ApplyRetention(tb.ctx, record.RetentionOpts{GlobalKeepGB: 5})
	require.NoError(t, err)
	require.Empty(t, done)
	page, err := tb.lib.ListVODs(tb.ctx, record.ListVODsParams{})
	require.NoError(t, err)
	require.Len(t, page.Items, 5)

	_, err = tb.lib.ApplyRetention(tb.ctx, record.RetentionOpts{GlobalKeepGB: -1})
	require.ErrorContains(t, err, "global keep_gb must be 0")
	_, statErr := os.Stat(protDir)
	require.NoError(t, statErr)
}
