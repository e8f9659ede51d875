package record

import (
	"context"
	"math/rand/v2"
	"time"
)

// watchLoop keeps one watcher per enabled channel until ctx ends, reading
// the channel list every RescanInterval so that added, enabled, disabled
// and removed channels are followed without a restart.
func (r *Recorder) watchLoop(ctx context.Context) {
	t := time.NewTicker(r.cfg.RescanInterval)
	defer t.Stop()
	for {
		r.rescan(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// rescan starts watchers for enabled channels that have none and stops
// those of channels that are gone or disabled. A capture in progress is not
// stopped by disabling its channel; only new ones are not started.
func (r *Recorder) rescan(ctx context.Context) {
	channels, err := r.lib.ListChannels(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.logger.Error("list channels to watch", "err", err)
		}
		return
	}
	want := make(map[int64]bool, len(channels))
	for _, ch := range channels {
		if ch.Enabled {
			want[ch.ID] = true
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopping {
		return
	}
	for id, cancel := range r.watchers {
		if !want[id] {
			cancel()
			delete(r.watchers, id)
		}
	}
	for id := range want {
		if _, ok := r.watchers[id]; ok {
			continue
		}
		wctx, cancel := context.WithCancel(ctx)
		r.watchers[id] = cancel
		// The first probe comes at once, spread by a little jitter: a
		// channel already live when lsdvr starts is recorded right away.
		delay := rand.N(r.cfg.StartJitter)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.watch(wctx, id, delay)
		}()
	}
}

// watch probes one channel after delay, then every poll interval of the
// channel as it is at that moment, until ctx ends.
func (r *Recorder) watch(ctx context.Context, id int64, delay time.Duration) {
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		timer.Reset(r.poll(ctx, id))
	}
}

// poll probes one channel and starts a recording when it is live and not
// being recorded. It returns the delay until the next poll.
func (r *Recorder) poll(ctx context.Context, id int64) time.Duration {
	next := time.Duration(DefaultPollInterval) * time.Second
	ch, err := r.lib.GetChannel(ctx, id)
	if err != nil {
		if ctx.Err() == nil {
			r.logger.Warn("read channel to poll", "channel_id", id, "err", err)
		}
		return next
	}
	next = time.Duration(max(ch.PollIntervalSec, MinPollInterval)) * time.Second
	if !ch.Enabled || r.busy(ch.ID) {
		// A capture probes its channel itself, more often.
		return next
	}
	info, err := r.probe(ctx, ch)
	if err != nil {
		if ctx.Err() == nil {
			r.logger.Warn("probe channel", "channel", ch.Name, "err", err)
		}
		return next
	}
	if !info.Live {
		r.unhold(ch.ID)
		if ch.IsLive {
			if _, _, err := r.lib.SetLive(ctx, ch.ID, false, ch.Title, ch.Category); err != nil {
				r.logger.Error("set channel offline", "channel", ch.Name, "err", err)
			}
		}
		return next
	}
	if r.isHeld(ch.ID) {
		return next
	}
	if low, free := r.checkDisk(); low {
		if _, err := r.markLive(ctx, ch, info); err != nil {
			r.logger.Error("mark channel live", "channel", ch.Name, "err", err)
		}
		r.diskAlert(ctx, free, "channel "+ch.Name+" is live but is not recorded")
		return next
	}
	s, err := r.reserve(ch)
	if err != nil {
		return next // a record-now request took it first
	}
	if _, err := r.begin(ctx, s, info); err != nil && ctx.Err() == nil {
		r.logger.Error("start recording", "channel", ch.Name, "err", err)
	}
	return next
}

// busy reports whether the channel has a session, even one only reserved.
func (r *Recorder) busy(channelID int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sessions[channelID] != nil
}

// hold keeps a channel from being recorded again until it is seen offline,
// after a person cancelled its capture.
func (r *Recorder) hold(channelID int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.held[channelID] = true
}

func (r *Recorder) unhold(channelID int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.held, channelID)
}

func (r *Recorder) isHeld(channelID int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.held[channelID]
}
