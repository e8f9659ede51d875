package job

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/store"
)

// QueueMaintenance is the queue periodic maintenance jobs run on, apart from
// river.QueueDefault where everything else runs.
const QueueMaintenance = "maintenance"

// Defaults of Config.
const (
	DefaultMaxWorkers          = 4
	DefaultMaintenanceInterval = time.Hour
	DefaultPruneBatch          = 5000
	// DefaultEventRetention is the configuration's default for
	// events.retention; Config.EventRetention itself treats 0 as forever.
	DefaultEventRetention = 720 * time.Hour
)

const (
	// publishTimeout bounds a job_* event write made on behalf of work that
	// has no context of its own left (a cancelled job, a timer).
	publishTimeout = 10 * time.Second
	// hardStopTimeout bounds the wait for cancelled jobs to return once a
	// graceful stop ran out of time.
	hardStopTimeout = 10 * time.Second
	// sweepAfter is how long an uncommitted insert stays in the list before
	// it is taken for rolled back.
	sweepAfter = time.Hour
)

// Config configures a Service. The zero value works: defaults are noted on
// each field.
type Config struct {
	// MaxWorkers is how many jobs of the default queue run at once.
	// Default DefaultMaxWorkers (4).
	MaxWorkers int
	// Workers holds the River workers of the application's job kinds
	// (river.AddWorker(workers, w)). nil means none besides the periodic
	// maintenance jobs, which New adds to it.
	Workers *river.Workers
	// PeriodicJobs are extra River periodic jobs; River inserts them itself,
	// so their job_save is published when their work begins. Prefer
	// AddPeriodic for simple functions.
	PeriodicJobs []*river.PeriodicJob
	// MaintenanceInterval is how often each periodic maintenance job runs
	// (each also runs once at start). Default 1 hour.
	MaintenanceInterval time.Duration
	// EventRetention is how long events are kept before
	// maintenance.prune_events deletes them (events with a pending webhook
	// delivery are always kept). 0 keeps events forever; the configuration
	// key events.retention defaults to DefaultEventRetention.
	EventRetention time.Duration
	// PruneBatch is how many events one pruning transaction deletes at most,
	// so that the single writer is never held long. Default 5,000.
	PruneBatch int
	// JobTimeout is how long a job may run before its context is cancelled,
	// unless its worker's Timeout says otherwise; -1 means no limit. Default
	// River's (1 minute).
	JobTimeout time.Duration
	// FetchPollInterval and FetchCooldown tune how often River looks for
	// new work. Defaults River's (1 s and 100 ms); tests shorten them.
	FetchPollInterval time.Duration
	FetchCooldown     time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TestOnly makes River skip start-up jitter. For tests only.
	TestOnly bool
}

// Service runs durable jobs on River and keeps the live list of jobs,
// publishing the job_* events. It is safe for concurrent use.
type Service struct {
	cfg     Config
	db      *store.DB
	bus     *event.Bus
	logger  *slog.Logger
	client  *river.Client[*sql.Tx]
	workers *river.Workers
	now     func() time.Time
	after   afterFunc
	reg     *registry

	periodicMu sync.RWMutex
	periodic   map[string]PeriodicFunc

	stopping atomic.Bool
}

// New migrates River's schema on db's write connection, builds the River
// client with the default and maintenance queues, the job_* middleware, the
// workers and periodic jobs of cfg and the maintenance.prune_events job, and
// returns a Service that is not started yet. Jobs may be inserted before
// Start; they run after it.
func New(cfg Config, db *store.DB, bus *event.Bus, logger *slog.Logger) (*Service, error) {
	if logger == nil {
		logger = slog.Default()
	}
	if cfg.MaxWorkers <= 0 {
		cfg.MaxWorkers = DefaultMaxWorkers
	}
	if cfg.MaintenanceInterval <= 0 {
		cfg.MaintenanceInterval = DefaultMaintenanceInterval
	}
	if cfg.PruneBatch <= 0 {
		cfg.PruneBatch = DefaultPruneBatch
	}
	if cfg.EventRetention < 0 {
		return nil, dvr.Errorf(dvr.EINVALID, "event retention must be 0 (forever) or positive, got %s", cfg.EventRetention)
	}
	if cfg.Workers == nil {
		cfg.Workers = river.NewWorkers()
	}
	s := &Service{
		cfg:      cfg,
		db:       db,
		bus:      bus,
		logger:   logger,
		workers:  cfg.Workers,
		now:      cfg.Now,
		after:    realAfter,
		reg:      newRegistry(),
		periodic: make(map[string]PeriodicFunc),
	}
	if s.now == nil {
		s.now = time.Now
	}

	driver := riversqlite.New(db.Write)
	ctx := context.Background()
	// River reports every migration and, every few seconds, job counts at
	// info level: operators need only its warnings and errors.
	riverLogger := slog.New(warnAndAbove{logger.Handler()}).With("component", "river")
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: riverLogger})
	if err != nil {
		return nil, fmt.Errorf("create job migrator: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("migrate job tables: %w", err)
	}

	if err := river.AddWorkerSafely(s.workers, &periodicWorker{svc: s}); err != nil {
		return nil, fmt.Errorf("register periodic worker: %w", err)
	}
	client, err := river.NewClient(driver, &river.Config{
		FetchCooldown:     cfg.FetchCooldown,
		FetchPollInterval: cfg.FetchPollInterval,
		JobTimeout:        cfg.JobTimeout,
		Logger:            riverLogger,
		Middleware:        []rivertype.Middleware{&middleware{svc: s}},
		PeriodicJobs:      cfg.PeriodicJobs,
		Queues: map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: cfg.MaxWorkers},
			QueueMaintenance:   {MaxWorkers: 2},
		},
		TestOnly: cfg.TestOnly,
		Workers:  s.workers,
	})
	if err != nil {
		return nil, fmt.Errorf("create job client: %w", err)
	}
	s.client = client
	if err := s.AddPeriodic(PruneEventsName, cfg.MaintenanceInterval, s.pruneEvents); err != nil {
		return nil, err
	}
	return s, nil
}

// River returns the underlying River client, for what this package does not
// wrap (e.g. JobGet). Insert through InsertTx so that job_save is published.
func (s *Service) River() *river.Client[*sql.Tx] { return s.client }

// Start loads the jobs waiting in the database into the live list (without
// events: they were announced when inserted) and starts working jobs. ctx
// bounds the start only; the service runs until Stop.
func (s *Service) Start(ctx context.Context) error {
	if err := s.loadWaiting(ctx); err != nil {
		return err
	}
	if err := s.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start jobs: %w", err)
	}
	return nil
}

// loadWaiting puts jobs that were inserted before this start and still wait
// to run into the list.
func (s *Service) loadWaiting(ctx context.Context) error {
	params := river.NewJobListParams().
		States(rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStateRetryable, rivertype.JobStatePending).
		First(10000)
	res, err := s.client.JobList(ctx, params)
	if err != nil {
		return fmt.Errorf("load waiting jobs: %w", err)
	}
	for _, row := range res.Jobs {
		j := jobOf(row, s.now())
		e := s.newEntry(riverName(j.Kind, row.ID), j, row.ID)
		e.committed = true
		s.reg.putIfAbsent(e)
	}
	return nil
}

// Stop stops working jobs gracefully: running jobs may finish until ctx is
// done; then their contexts are cancelled and Stop waits up to 10 s more for
// them to return (River makes interrupted jobs available again). It is safe
// to call more than once, and before Start.
func (s *Service) Stop(ctx context.Context) error {
	s.stopping.Store(true)
	err := s.client.Stop(ctx)
	if err == nil {
		return nil
	}
	if ctx.Err() == nil {
		return fmt.Errorf("stop jobs: %w", err)
	}
	s.logger.Warn("jobs did not finish in time; cancelling them")
	hctx, cancel := context.WithTimeout(context.Background(), hardStopTimeout)
	defer cancel()
	if err := s.client.StopAndCancel(hctx); err != nil {
		return fmt.Errorf("stop jobs: %w", err)
	}
	return nil
}

// InsertTx inserts a River job in tx, the transaction of the state change
// that asks for it, and publishes its job_save in the same transaction. The
// job joins the live list when tx commits. A unique job that already exists
// is returned as is, without an event. It returns River's row; its id as a
// string is the job's id in the list and in events.
func (s *Service) InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error) {
	res, err := s.client.InsertTx(ctx, tx.Tx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("insert %s job: %w", args.Kind(), err)
	}
	row := res.Job
	if res.UniqueSkippedAsDuplicate {
		return row, nil
	}
	j := jobOf(row, s.now())
	j.UpdatedAt = j.CreatedAt
	e := s.newEntry(riverName(j.Kind, row.ID), j, row.ID)
	s.reg.sweep(s.now().Add(-sweepAfter))
	s.reg.put(e)
	if _, err := s.bus.Publish(ctx, tx, event.JobSave{JobName: e.name, Job: j}); err != nil {
		return nil, err
	}
	tx.AfterCommit(func() {
		e.mu.Lock()
		e.committed = true
		e.mu.Unlock()
	})
	return row, nil
}

// Insert inserts a River job in a transaction of its own; see InsertTx.
// Never call it inside a transaction: use InsertTx there.
func (s *Service) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error) {
	var row *rivertype.JobRow
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		row, err = s.InsertTx(ctx, tx, args, opts)
		return err
	})
	return row, err
}

// List returns the live jobs (pending, running or waiting for a retry, River
// jobs and tracked processes alike), oldest first.
func (s *Service) List(ctx context.Context) ([]Live, error) {
	return s.reg.list(), nil
}

// MaxHistory is the largest page History returns.
const MaxHistory = 1000

// History returns up to limit finished River jobs (completed, failed or
// cancelled), most recently finished first; River keeps them for a day
// (failed ones for a week). limit must be 1..MaxHistory (EINVALID).
func (s *Service) History(ctx context.Context, limit int) ([]event.Job, error) {
	if limit < 1 || limit > MaxHistory {
		return nil, dvr.Errorf(dvr.EINVALID, "limit must be between 1 and %d, got %d", MaxHistory, limit)
	}
	params := river.NewJobListParams().
		States(rivertype.JobStateCompleted, rivertype.JobStateDiscarded, rivertype.JobStateCancelled).
		OrderBy(river.JobListOrderByFinalizedAt, river.SortOrderDesc).
		First(limit)
	res, err := s.client.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("list finished jobs: %w", err)
	}
	out := make([]event.Job, 0, len(res.Jobs))
	for _, row := range res.Jobs {
		out = append(out, jobOf(row, s.now()))
	}
	return out, nil
}

// Cancel cancels a job of the live list. A River job waiting to run is
// cancelled at once; a running one has its context cancelled and ends as
// cancelled when its worker returns. A tracked job has the cancel function
// given to Track called; its owner reports the outcome. Cancelling a River
// job that is already cancelled succeeds. Errors: EINVALID for a malformed
// id, ENOTFOUND for an unknown one, ECONFLICT for a job that has completed
// or failed, or a tracked job given no cancel function.
func (s *Service) Cancel(ctx context.Context, id string) error {
	riverID, err := ParseID(id)
	if err != nil {
		return err
	}
	if riverID == 0 {
		e := s.reg.get(id)
		if e == nil {
			return dvr.Errorf(dvr.ENOTFOUND, "job %s not found", id)
		}
		cancel := e.cancelFunc()
		if cancel == nil {
			return dvr.Errorf(dvr.ECONFLICT, "job %s cannot be cancelled", id)
		}
		cancel(errCancelled)
		return nil
	}
	row, err := s.client.JobCancel(ctx, riverID)
	if errors.Is(err, river.ErrNotFound) {
		return dvr.Errorf(dvr.ENOTFOUND, "job %s not found", id)
	}
	if err != nil {
		return fmt.Errorf("cancel job %s: %w", id, err)
	}
	e := s.reg.get(id)
	switch row.State {
	case rivertype.JobStateRunning:
		// River marks it for cancellation; cancelling its context here
		// spares the wait for River to notice.
		if e != nil {
			if cancel := e.cancelFunc(); cancel != nil {
				cancel(errCancelled)
			}
		}
		return nil
	case rivertype.JobStateCancelled:
		if e != nil {
			s.finish(ctx, e, StateCancelled, nil, row.Attempt)
		}
		return nil
	default:
		return dvr.Errorf(dvr.ECONFLICT, "job %s has already finished (%s)", id, riverState(row.State))
	}
}

// finish records a job's new state: it flushes pending progress, publishes
// job_update and, for a final state, job_clear in the same transaction, and
// then drops the job from the list.
func (s *Service) finish(ctx context.Context, e *entry, state State, err error, attempt int) {
	e.prog.flush(state.Final(), func() {
		name, j := e.setState(state, err, attempt)
		if !state.Final() {
			s.publish(ctx, event.JobUpdate{JobName: name, Job: j})
			return
		}
		s.publish(ctx, event.JobUpdate{JobName: name, Job: j}, event.JobClear{JobName: name, Job: j})
		s.reg.remove(e)
	})
}

// publish writes the events in one transaction. Job events describe
// in-memory state, so a failure is logged rather than failing the job. It
// must not be called inside a transaction.
func (s *Service) publish(ctx context.Context, data ...event.Data) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		for _, d := range data {
			if _, err := s.bus.Publish(ctx, tx, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.logger.Error("publish job event", "action", string(data[0].Action()), "err", err)
	}
}

// warnAndAbove passes on records of level warn and above only.
type warnAndAbove struct{ slog.Handler }

func (h warnAndAbove) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

func (h warnAndAbove) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnAndAbove{h.Handler.WithAttrs(attrs)}
}

func (h warnAndAbove) WithGroup(name string) slog.Handler {
	return warnAndAbove{h.Handler.WithGroup(name)}
}
