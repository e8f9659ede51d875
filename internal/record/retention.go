package record

import (
	"fmt"
	"sort"
	"time"
)

// BytesPerGB converts the keep_gb settings to bytes: a gigabyte is 10^9
// bytes, as disks are sold.
const BytesPerGB = 1e9

// RetentionVOD is what retention needs to know about a VOD.
type RetentionVOD struct {
	ID        int64
	ChannelID int64
	Basename  string
	StartedAt time.Time
	SizeBytes int64
	Status    string
	Protected bool
}

// ChannelPolicy limits one channel's VODs; zero means no limit.
type ChannelPolicy struct {
	KeepLast  int   // keep at most this many finished VODs
	KeepBytes int64 // keep at most this many bytes of VODs
}

// Policy is the whole retention policy.
type Policy struct {
	Channels    map[int64]ChannelPolicy // by channel id; absent: no limit
	GlobalBytes int64                   // all channels together; 0: no limit
}

// Retention rules, in the order Plan applies them.
const (
	RuleKeepLast    = "keep_last"
	RuleChannelSize = "keep_gb"
	RuleGlobalSize  = "global_keep_gb"
)

// Deletion is one VOD that retention deletes, and why.
type Deletion struct {
	VODID     int64  `json:"vod_id"`
	ChannelID int64  `json:"channel_id"`
	Basename  string `json:"basename"`
	Rule      string `json:"rule"`   // RuleKeepLast, RuleChannelSize or RuleGlobalSize
	Reason    string `json:"reason"` // the rule in words, with its numbers
}

// Plan decides which VODs retention deletes; it is pure. Rules, applied in
// order, each to what the previous ones left:
//
//  1. keep_last N: per channel, only the N newest finished VODs are kept.
//     Protected VODs count towards N (they are never deleted); VODs still
//     being captured or converted do not, so a capture that fails never
//     costs a good recording.
//  2. keep_gb: per channel, the oldest deletable VODs go until the
//     channel's VODs (all of them, since all use disk) fit the limit.
//  3. global: the same across all channels, oldest first.
//
// Protected VODs and VODs being captured or converted are never deleted;
// when they alone exceed a limit, the limit is not met and nothing else is
// deleted for it. Deletions are returned oldest first (by start, then id),
// each once, with the first rule that claimed it.
func Plan(vods []RetentionVOD, policy Policy) []Deletion {
	sorted := append([]RetentionVOD(nil), vods...)
	// Oldest first: deletions are taken from the front.
	sort.Slice(sorted, func(i, j int) bool {
		if !sorted[i].StartedAt.Equal(sorted[j].StartedAt) {
			return sorted[i].StartedAt.Before(sorted[j].StartedAt)
		}
		return sorted[i].ID < sorted[j].ID
	})
	deleted := make(map[int64]Deletion)
	deletable := func(v RetentionVOD) bool {
		_, gone := deleted[v.ID]
		return !gone && !v.Protected && !inProgress(v.Status)
	}
	claim := func(v RetentionVOD, rule, reason string) {
		deleted[v.ID] = Deletion{VODID: v.ID, ChannelID: v.ChannelID, Basename: v.Basename, Rule: rule, Reason: reason}
	}

	byChannel := make(map[int64][]RetentionVOD)
	var channels []int64
	for _, v := range sorted {
		if _, ok := byChannel[v.ChannelID]; !ok {
			channels = append(channels, v.ChannelID)
		}
		byChannel[v.ChannelID] = append(byChannel[v.ChannelID], v)
	}
	sort.Slice(channels, func(i, j int) bool { return channels[i] < channels[j] })

	for _, ch := range channels {
		cp := policy.Channels[ch]
		list := byChannel[ch]
		if cp.KeepLast > 0 {
			kept := 0
			for i := len(list) - 1; i >= 0; i-- { // newest first
				v := list[i]
				if inProgress(v.Status) {
					continue
				}
				kept++
				if kept > cp.KeepLast && deletable(v) {
					claim(v, RuleKeepLast, fmt.Sprintf("channel keeps its newest %d VODs", cp.KeepLast))
				}
			}
		}
		if cp.KeepBytes > 0 {
			trim(list, cp.KeepBytes, deleted, deletable, func(v RetentionVOD, total int64) {
				claim(v, RuleChannelSize, fmt.Sprintf("channel keeps at most %s of VODs and had %s", gb(cp.KeepBytes), gb(total)))
			})
		}
	}
	if policy.GlobalBytes > 0 {
		trim(sorted, policy.GlobalBytes, deleted, deletable, func(v RetentionVOD, total int64) {
			claim(v, RuleGlobalSize, fmt.Sprintf("the library keeps at most %s of VODs and had %s", gb(policy.GlobalBytes), gb(total)))
		})
	}

	out := make([]Deletion, 0, len(deleted))
	for _, v := range sorted {
		if d, ok := deleted[v.ID]; ok {
			out = append(out, d)
		}
	}
	return out
}

// trim claims the oldest deletable VODs of list (sorted oldest first) until
// the VODs not yet deleted fit in limit bytes. claim gets the total before
// each deletion.
func trim(list []RetentionVOD, limit int64, deleted map[int64]Deletion, deletable func(RetentionVOD) bool, claim func(RetentionVOD, int64)) {
	var total int64
	for _, v := range list {
		if _, gone := deleted[v.ID]; !gone {
			total += v.SizeBytes
		}
	}
	for _, v := range list {
		if total <= limit {
			return
		}
		if deletable(v) {
			claim(v, total)
			total -= v.SizeBytes
		}
	}
}

// gb formats bytes as gigabytes for reasons.
func gb(bytes int64) string { return fmt.Sprintf("%.2f GB", float64(bytes)/BytesPerGB) }
