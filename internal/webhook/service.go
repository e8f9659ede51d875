package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

// claimBatch is the most due deliveries the retry loop claims per query.
const claimBatch = 512

// maxQueued bounds how many claimed deliveries may wait in memory; past it
// the retry loop leaves the rest in the database for later ticks.
const maxQueued = 50_000

// reservationTTL is how long a delivery reserved by an uncommitted
// transaction is kept from the retry loop before the reservation is taken
// for the leftover of a rollback.
const reservationTTL = 10 * time.Minute

// Service delivers events to webhook endpoints. It is safe for concurrent
// use. Build it with New, then Start it; Stop it on shutdown.
type Service struct {
	cfg     Config
	db      *store.DB
	bus     *event.Bus
	logger  *slog.Logger
	metrics *metrics

	cache atomic.Pointer[snapshot]
	track *tracker
	disp  *dispatcher

	// claimMu orders the retry loop's claims after the writer's commits:
	// the writer holds it from its commit until it has released the
	// committed deliveries, so the loop never reads a stale due time of a
	// delivery that was just attempted.
	claimMu sync.Mutex

	results    chan *result
	writerDone chan struct{}
	workers    sync.WaitGroup
	sendCtx    context.Context // cancelled when Stop runs out of time
	sendCancel context.CancelFunc
	pollCancel context.CancelFunc
	pollDone   chan struct{}

	mu       sync.Mutex
	started  bool
	stopped  bool
	stopDone chan struct{}

	// afterFlush, when set (by tests, before Start), runs after each batch
	// of results is committed.
	afterFlush func()
}

// New returns a Service delivering the events published on bus, and
// registers its hook on bus: from now on every publish inserts one delivery
// per matching enabled endpoint in the publishing transaction. Deliveries
// are sent once Start has run. logger nil means slog.Default().
func New(cfg Config, db *store.DB, bus *event.Bus, logger *slog.Logger) (*Service, error) {
	if db == nil || bus == nil {
		return nil, errors.New("new webhook service: db and bus are required")
	}
	if logger == nil {
		logger = slog.Default()
	}
	cfg = cfg.withDefaults()
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Service{
		cfg:      cfg,
		db:       db,
		bus:      bus,
		logger:   logger.With("component", "webhook"),
		metrics:  m,
		track:    newTracker(),
		disp:     newDispatcher(cfg.PerEndpoint),
		stopDone: make(chan struct{}),
	}
	// New has no context of its own; reading a few endpoint rows is quick.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	snap, err := loadSnapshot(ctx, db.Read)
	if err != nil {
		return nil, fmt.Errorf("load webhooks: %w", err)
	}
	s.cache.Store(snap)
	bus.AddTxHook(event.TxHookFunc(s.onPublish))
	return s, nil
}

func (s *Service) snap() *snapshot        { return s.cache.Load() }
func (s *Service) setSnap(snap *snapshot) { s.cache.Store(snap) }

type ctxKey int

const (
	onlyEndpointKey ctxKey = iota
	snapshotKey
)

// WithOnlyEndpoint returns a context under which a publish is delivered to
// the endpoint with this id only, whatever its action filter (as long as it
// is enabled). SendTest uses it.
func WithOnlyEndpoint(ctx context.Context, endpointID int64) context.Context {
	return context.WithValue(ctx, onlyEndpointKey, endpointID)
}

// withSnapshot makes the hook use snap instead of the installed cache: a
// transaction that changed endpoints publishes as it sees them.
func withSnapshot(ctx context.Context, snap *snapshot) context.Context {
	return context.WithValue(ctx, snapshotKey, snap)
}

// onPublish is the outbox hook: inside the publishing transaction it inserts
// a delivery for each enabled endpoint that wants the event, and once the
// transaction commits hands them to the workers.
func (s *Service) onPublish(ctx context.Context, tx *store.Tx, ev *event.Event) error {
	snap, _ := ctx.Value(snapshotKey).(*snapshot)
	if snap == nil {
		snap = s.snap()
	}
	var targets []*cachedEndpoint
	if id, ok := ctx.Value(onlyEndpointKey).(int64); ok {
		if ep := snap.byID[id]; ep != nil && ep.row.Enabled {
			targets = append(targets, ep)
		}
	} else {
		for _, ep := range snap.enabled {
			if ep.matches(ev.Action) {
				targets = append(targets, ep)
			}
		}
	}
	if len(targets) == 0 {
		return nil
	}
	now := s.cfg.Now()
	due := now.Add(s.cfg.Schedule[0])
	jobs := make([]job, 0, len(targets))
	for _, ep := range targets {
		id, err := insertDelivery(ctx, tx, ep.row.ID, ev.Seq, due, now, nil)
		if err != nil {
			return fmt.Errorf("webhook %d: %w", ep.row.ID, err)
		}
		s.track.reserve(id)
		jobs = append(jobs, job{deliveryID: id, endpointID: ep.row.ID, eventID: ev.ID, body: ev.Body, attempt: 1})
	}
	tx.AfterCommit(func() { s.handOver(jobs) })
	return nil
}

// handOver queues freshly committed deliveries. With a delayed first attempt
// (Schedule[0] > 0) the retry loop sends them when due instead.
func (s *Service) handOver(jobs []job) {
	if s.cfg.Schedule[0] > 0 {
		s.track.releaseJobs(jobs)
		return
	}
	s.track.activate(jobs)
	if !s.disp.push(jobs) {
		s.track.releaseJobs(jobs)
	}
}

// Start starts the workers, the result writer and the retry loop, which at
// once resumes every pending delivery that is due (those left by a previous
// run included). ctx only carries values: use Stop to stop. A Service
// cannot be started twice.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.stopped {
		return errors.New("start webhook service: already started or stopped")
	}
	s.started = true
	bg := context.WithoutCancel(ctx)
	s.sendCtx, s.sendCancel = context.WithCancel(bg)
	var pollCtx context.Context
	pollCtx, s.pollCancel = context.WithCancel(bg)
	s.pollDone = make(chan struct{})
	s.results = make(chan *result, 4*maxBatch)
	s.writerDone = make(chan struct{})

	go s.writeLoop(bg)
	for range s.cfg.Workers {
		s.workers.Add(1)
		go s.worker()
	}
	go s.pollLoop(pollCtx)
	return nil
}

// Stop stops claiming deliveries, lets attempts in flight finish until ctx
// is done (then cuts them short; they are resumed on the next start),
// writes every result and returns. Queued deliveries not yet attempted stay
// pending in the database. It returns an error wrapping ctx.Err() when it
// had to cut attempts short. It is safe to call more than once: later calls
// wait for the first to finish and return nil.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		<-s.stopDone
		return nil
	}
	s.stopped = true
	started := s.started
	s.mu.Unlock()
	defer close(s.stopDone)

	s.track.releaseJobs(s.disp.close())
	if !started {
		return nil
	}
	s.pollCancel()
	<-s.pollDone

	workersDone := make(chan struct{})
	go func() { s.workers.Wait(); close(workersDone) }()
	var err error
	select {
	case <-workersDone:
	case <-ctx.Done():
		s.sendCancel()
		<-workersDone
		err = fmt.Errorf("stop webhook service: attempts cut short: %w", ctx.Err())
	}
	close(s.results)
	<-s.writerDone
	s.sendCancel()
	return err
}

// pollLoop claims due deliveries every PollInterval, starting at once, and
// disables endpoints that have failed for too long.
func (s *Service) pollLoop(ctx context.Context) {
	defer close(s.pollDone)
	tick := time.NewTicker(s.cfg.PollInterval)
	defer tick.Stop()
	for {
		s.claimDue(ctx)
		if err := s.CheckFailing(ctx); err != nil && ctx.Err() == nil {
			s.logger.Error("check failing webhooks", "err", err)
		}
		s.track.sweep(time.Now().Add(-reservationTTL))
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// claimDue hands every due delivery that this process does not own yet to
// the workers.
func (s *Service) claimDue(ctx context.Context) {
	for ctx.Err() == nil && s.disp.len() < maxQueued {
		s.claimMu.Lock()
		jobs, err := dueDeliveries(ctx, s.db.Read, s.cfg.Now(), claimBatch)
		fresh := jobs[:0]
		for _, j := range jobs {
			if s.track.claim(j.deliveryID) {
				fresh = append(fresh, j)
			}
		}
		s.claimMu.Unlock()
		if err != nil {
			if ctx.Err() == nil {
				s.logger.Error("claim due webhook deliveries", "err", err)
			}
			return
		}
		if len(fresh) > 0 && !s.disp.push(fresh) {
			s.track.releaseJobs(fresh)
			return
		}
		// A full page with nothing new means the rest is ours already.
		if len(jobs) < claimBatch || len(fresh) == 0 {
			return
		}
	}
}

// CheckFailing disables every enabled endpoint whose deliveries have all
// failed for Config.DisableAfter or longer, publishing an alert (level
// error) for each. Attempt results already do this as they are written;
// this catches endpoints with no recent attempts. It reads the in-memory
// cache and writes only when there is something to disable.
func (s *Service) CheckFailing(ctx context.Context) error {
	if s.cfg.DisableAfter <= 0 {
		return nil
	}
	now := s.cfg.Now()
	var due []int64
	for _, ep := range s.snap().enabled {
		if fs := ep.row.FailingSince; fs != nil && now.Sub(*fs) >= s.cfg.DisableAfter {
			due = append(due, ep.row.ID)
		}
	}
	if len(due) == 0 {
		return nil
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		var alerts []event.Alert
		for _, id := range due {
			r, err := getEndpoint(ctx, tx, id)
			if err != nil || !r.Enabled || r.FailingSince == nil || now.Sub(*r.FailingSince) < s.cfg.DisableAfter {
				continue // changed meanwhile
			}
			reason := fmt.Sprintf("every delivery has failed since %s", r.FailingSince.UTC().Format(time.RFC3339))
			if ok, err := disableEndpoint(ctx, tx, id, reason, now); err != nil {
				return err
			} else if ok {
				alerts = append(alerts, disabledAlert(r, reason))
			}
		}
		return s.reloadInTx(ctx, tx, alerts...)
	})
}

// PruneAttempts deletes attempt log rows older than before and returns how
// many it deleted; for a maintenance job. Deliveries are kept.
func (s *Service) PruneAttempts(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = pruneAttempts(ctx, tx, before)
		return err
	})
	return n, err
}
