package record_test

import (
	"context"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/record"
	"github.com/lsdvr/lsdvr/internal/store"
)

func TestListVODsKeysetAcrossEqualTimestamps(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	a, b := newChannel(t, tb, "a"), newChannel(t, tb, "b")
	// Several VODs share a start millisecond, across and within channels, so
	// only the id tells them apart.
	starts := []struct {
		ch  int64
		off time.Duration
	}{
		{a.ID, 0}, {b.ID, 0}, {a.ID, 0}, {a.ID, time.Hour}, {b.ID, time.Hour},
		{b.ID, 2 * time.Hour}, {a.ID, 2 * time.Hour}, {a.ID, 2 * time.Hour}, {b.ID, 3 * time.Hour},
	}
	var all []dvr.VOD
	for _, s := range starts {
		v, err := tb.lib.CreateVOD(tb.ctx, record.CreateVODParams{ChannelID: s.ch, StartedAt: t0.Add(s.off)})
		require.NoError(t, err)
		all = append(all, v)
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].StartedAt.Equal(all[j].StartedAt) {
			return all[i].StartedAt.After(all[j].StartedAt)
		}
		return all[i].ID > all[j].ID
	})

	walk := func(p record.ListVODsParams) []int64 {
		var ids []int64
		for pages := 0; ; pages++ {
			require.Less(t, pages, 20, "pagination must end")
			page, err := tb.lib.ListVODs(tb.ctx, p)
			require.NoError(t, err)
			require.LessOrEqual(t, len(page.Items), p.Limit)
			for _, v := range page.Items {
				ids = append(ids, v.ID)
			}
			if page.NextCursor == "" {
				return ids
			}
			require.Len(t, page.Items, p.Limit, "only the last page is short")
			p.Cursor = page.NextCursor
		}
	}
	var want, wantA []int64
	for _, v := range all {
		want = append(want, v.ID)
		if v.ChannelID == a.ID {
			wantA = append(wantA, v.ID)
		}
	}
	for _, limit := range []int{1, 2, 3, 4, 9, 10} {
		require.Equal(t, want, walk(record.ListVODsParams{Limit: limit}), "limit %d", limit)
		require.Equal(t, wantA, walk(record.ListVODsParams{Limit: limit, ChannelID: a.ID}), "channel a, limit %d", limit)
	}

	page, err := tb.lib.ListVODs(tb.ctx, record.ListVODsParams{})
	require.NoError(t, err)
	require.Len(t, page.Items, len(all))
	require.Empty(t, page.NextCursor)
	require.Equal(t, "b", page.Items[0].ChannelName)

	page, err = tb.lib.ListVODs(tb.ctx, record.ListVODsParams{ChannelID: 999})
	require.NoError(t, err)
	require.Empty(t, page.Items)
}

func TestListVODsLoadsChaptersAndFiles(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	c := newChannel(t, tb, "demo")
	var ids []int64
	for i := range 3 {
		v, err := tb.lib.CreateVOD(tb.ctx, record.CreateVODParams{ChannelID: c.ID, StartedAt: t0.Add(time.Duration(i) * time.Hour)})
		require.NoError(t, err)
		ids = append(ids, v.ID)
	}
	for n, id := range ids[1:] { // the oldest has none
		for i := 0; i <= n; i++ {
			_, err := tb.lib.AddChapter(tb.ctx, id, record.ChapterParams{Title: "t"})
			require.NoError(t, err)
		}
		_, err := tb.lib.SetFiles(tb.ctx, id, []record.VODFile{{Name: "v.mp4", Kind: record.FileMP4, SizeBytes: int64(n + 1)}})
		require.NoError(t, err)
	}
	page, err := tb.lib.ListVODs(tb.ctx, record.ListVODsParams{})
	require.NoError(t, err)
	require.Len(t, page.Items, 3)
	require.Len(t, page.Items[0].Chapters, 2)
	require.Len(t, page.Items[1].Chapters, 1)
	require.Empty(t, page.Items[2].Chapters)
	require.Equal(t, []string{"v.mp4"}, page.Items[0].Files)
	require.Empty(t, page.Items[2].Files)
	require.Equal(t, int64(2), page.Items[0].SizeBytes)
}

func TestListVODsRejectsBadParams(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	cases := []struct {
		p   record.ListVODsParams
		msg string
	}{
		{record.ListVODsParams{Limit: 501}, "limit must be between 1 and 500, got 501"},
		{record.ListVODsParams{Limit: -1}, "limit must be between 1 and 500, got -1"},
		{record.ListVODsParams{Cursor: "!!"}, "is not valid"},
		{record.ListVODsParams{Cursor: "MTIz"}, "is not valid"},     // "123": no id
		{record.ListVODsParams{Cursor: "MS4tNQ"}, "is not valid"},   // "1.-5"
		{record.ListVODsParams{Cursor: "eC55"}, "is not valid"},     // "x.y"
		{record.ListVODsParams{ChannelID: -3}, "channel must be a"}, // negative
	}
	for _, tc := range cases {
		_, err := tb.lib.ListVODs(tb.ctx, tc.p)
		require.Error(t, err, tc.msg)
		require.Equal(t, dvr.EINVALID, dvr.ErrorCode(err), tc.msg)
		require.Contains(t, err.Error(), tc.msg)
	}
}

// BenchmarkListVODs measures the first page of a library of 100,000 VODs
// (p99 over b.N listings), a page deep into it, and how long store.Open takes
// on that database (start-up).
func BenchmarkListVODs(b *testing.B) {
	const (
		total    = 100_000
		channels = 10
	)
	ctx := context.Background()
	tb := setup(b)
	var chIDs []int64
	for i := range channels {
		c, err := tb.lib.CreateChannel(ctx, record.ChannelParams{Name: "ch" + string(rune('a'+i)), URL: "https://x.test/"})
		require.NoError(b, err)
		chIDs = append(chIDs, c.ID)
	}
	err := tb.db.InTx(ctx, func(tx *store.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO vods (channel_id, basename, title, status, started_at,
			duration_sec, size_bytes, created_at, updated_at) VALUES (?, ?, 'A broadcast', 'finalized', ?, 3600, 1000000, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range total {
			// Pairs of VODs share a start so the keyset sees ties.
			start := store.UnixMilli(t0.Add(time.Duration(i/2) * time.Minute))
			if _, err := stmt.ExecContext(ctx, chIDs[i%channels], "vod"+strconv.Itoa(i), start, start, start); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(b, err)

	lat := make([]time.Duration, 0, b.N)
	var deep string
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		page, err := tb.lib.ListVODs(ctx, record.ListVODsParams{})
		lat = append(lat, time.Since(start))
		if err != nil || len(page.Items) != record.DefaultVODLimit {
			b.Fatalf("first page: %d items, %v", len(page.Items), err)
		}
		deep = page.NextCursor
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p99 := lat[(len(lat)*99)/100]
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")

	// A channel's first page and a page after the first.
	start := time.Now()
	_, err = tb.lib.ListVODs(ctx, record.ListVODsParams{ChannelID: chIDs[3]})
	require.NoError(b, err)
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "channel-page-ms")
	start = time.Now()
	_, err = tb.lib.ListVODs(ctx, record.ListVODsParams{Cursor: deep, Limit: record.MaxVODLimit})
	require.NoError(b, err)
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "page2-500-ms")

	// Start-up: opening the database (migrations already applied).
	path := tb.db.Path
	require.NoError(b, tb.db.Close())
	start = time.Now()
	db, err := store.Open(ctx, path)
	open := time.Since(start)
	require.NoError(b, err)
	defer db.Close()
	b.ReportMetric(float64(open.Microseconds())/1000, "open-ms")
}
