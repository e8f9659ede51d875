package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"

	"github.com/lsdvr/lsdvr/internal/api"
	"github.com/lsdvr/lsdvr/internal/config"
	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/job"
	"github.com/lsdvr/lsdvr/internal/logevent"
	"github.com/lsdvr/lsdvr/internal/media"
	"github.com/lsdvr/lsdvr/internal/notify"
	"github.com/lsdvr/lsdvr/internal/record"
	"github.com/lsdvr/lsdvr/internal/store"
	"github.com/lsdvr/lsdvr/internal/webhook"
	"github.com/lsdvr/lsdvr/internal/ws"
)

// Options are the command-line settings of `lsdvr serve`.
type Options struct {
	// DataDir holds the database, the configuration file and the storage
	// folder. Default ./data.
	DataDir string
	// Listen overrides server.listen when set.
	Listen string
	// ConfigFile is an explicit configuration file; empty means config.yaml
	// or config.toml in DataDir.
	ConfigFile string
	// DatabaseURL is a SQLite file path; empty means <DataDir>/lsdvr.db.
	DatabaseURL string
	// Environ is the process environment (KEY=VALUE), read for LSDVR_*.
	Environ []string
	// Version is reported in init, connected and /healthz.
	Version string
	// Stderr receives the logs; nil means os.Stderr.
	Stderr io.Writer
	// ShutdownTimeout bounds graceful shutdown. Default 15 s.
	ShutdownTimeout time.Duration
}

// stopper is a started service, stopped in reverse start order.
type stopper struct {
	name string
	stop func(ctx context.Context) error
}

// App is a running lsdvr server.
type App struct {
	opts     Options
	cfg      *config.Config
	db       *store.DB
	bus      *event.Bus
	logger   *slog.Logger
	level    *slog.LevelVar
	registry *prometheus.Registry
	listener net.Listener
	http     *http.Server
	stoppers []stopper
	instance string
}

// Run starts lsdvr, serves until ctx is cancelled (SIGINT/SIGTERM in main),
// then shuts down gracefully.
func Run(ctx context.Context, opts Options) error {
	a, err := Start(ctx, opts)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- a.serve() }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil {
			a.logger.Error("http server stopped", "err", err)
		}
	}
	a.logger.Info("shutting down")
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.ShutdownTimeout)
	defer cancel()
	return a.Stop(stopCtx)
}

// Start builds and starts every service and binds the listener, but does
// not serve yet (serve does).
func Start(ctx context.Context, opts Options) (_ *App, err error) {
	if opts.DataDir == "" {
		opts.DataDir = "./data"
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 15 * time.Second
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	a := &App{opts: opts, level: new(slog.LevelVar), registry: prometheus.NewRegistry(),
		instance: strings.ToLower(ulid.MustNew(ulid.Now(), rand.Reader).String())}
	defer func() {
		if err != nil {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.ShutdownTimeout)
			defer cancel()
			_ = a.Stop(stopCtx)
		}
	}()
	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data folder %s: %w", opts.DataDir, err)
	}
	if a.cfg, err = config.Load(opts.DataDir, opts.ConfigFile, opts.Environ); err != nil {
		return nil, err
	}
	set := a.cfg.Settings()
	if opts.Listen != "" {
		set.Server.Listen = opts.Listen
	}

	inner := newInnerHandler(opts.Stderr, set.Log.Format, a.level)
	a.level.Set(parseLevel(set.Log.Level))
	a.logger = slog.New(inner)

	dbPath := opts.DatabaseURL
	if dbPath == "" {
		dbPath = filepath.Join(opts.DataDir, "lsdvr.db")
	}
	if strings.Contains(dbPath, "://") && !strings.HasPrefix(dbPath, "file:") {
		return nil, fmt.Errorf("--db %q: only a SQLite file path is supported", dbPath)
	}
	if a.db, err = store.Open(ctx, strings.TrimPrefix(dbPath, "file:")); err != nil {
		return nil, err
	}
	a.onStop("database", func(context.Context) error { return a.db.Close() })
	a.bus = event.NewBus(a.db, nil)
	a.registerMetrics()

	// Log events: records at events.log_level and above become `log` events.
	eventLevel := new(slog.LevelVar)
	eventLevel.Set(parseLevel(set.Events.LogLevel))
	logs, err := logevent.New(logevent.Config{Inner: inner, Publisher: a.bus, Level: eventLevel,
		Rate: set.Events.LogRate, Burst: set.Events.LogBurst})
	if err != nil {
		return nil, err
	}
	a.logger = slog.New(logs)
	// Packages that log without a logger of their own use the default one:
	// route it through the same handler, so it reaches log events too.
	slog.SetDefault(a.logger)
	if err := logs.Start(ctx); err != nil {
		return nil, err
	}
	a.onStop("log events", logs.Stop)
	a.cfg.OnChange(func(changed []string) {
		s := a.cfg.Settings()
		a.level.Set(parseLevel(s.Log.Level))
		eventLevel.Set(parseLevel(s.Events.LogLevel))
		logs.SetLimit(s.Events.LogRate, s.Events.LogBurst)
	})

	notifier, err := notify.New(notify.Config{URLs: set.Notify.URLs, Categories: set.Notify.Categories,
		Alerts: set.Notify.Alerts, Logger: a.logger.With("module", "notify")})
	if err != nil {
		return nil, err
	}
	a.bus.Subscribe(notifier.Handle)
	if err := notifier.Start(ctx); err != nil {
		return nil, err
	}
	a.onStop("notifications", notifier.Stop)

	library := record.NewLibrary(a.db, a.bus, filepath.Join(opts.DataDir, "storage"), nil)

	// The hub subscribes to the bus, so it exists before the first publish.
	auth := bearerAuth(a.cfg)
	hub := ws.New(ws.Config{Version: opts.Version, Registerer: a.registry, Authorize: auth,
		SendBuffer: set.WS.SendBuffer, PingInterval: set.WS.PingInterval}, a.db, a.bus, a.logger.With("module", "ws"))

	hooks, err := webhook.New(webhookConfig(set.Webhook, a.registry), a.db, a.bus, a.logger.With("module", "webhook"))
	if err != nil {
		return nil, err
	}

	tools := media.FindTools(ctx, media.ToolPaths{FFmpeg: set.Tools.FFmpeg, FFprobe: set.Tools.FFprobe, Streamlink: set.Tools.Streamlink})
	for _, t := range tools.All() {
		if t.Found {
			a.logger.Info("found "+t.Name, "path", t.Path, "version", t.Version.String())
		} else {
			a.logger.Warn(t.Name+" not found: recording is limited until it is installed (run lsdvr doctor)", "err", t.Error)
		}
	}
	converter := record.NewConverter(record.ConverterConfig{KeepTS: set.Record.KeepTS,
		FFmpegPath: tools.FFmpeg.Path, FFprobePath: tools.FFprobe.Path}, library, a.bus, a.logger.With("module", "convert"))
	workers := river.NewWorkers()
	if err := converter.AddWorkers(workers); err != nil {
		return nil, err
	}

	jobs, err := job.New(job.Config{EventRetention: set.Events.Retention, Workers: workers}, a.db, a.bus, a.logger.With("module", "job"))
	if err != nil {
		return nil, err
	}
	if err := library.AddMaintenance(jobs, set.Record.RetentionEvery, record.RetentionOpts{GlobalKeepGB: set.Record.RetentionGB}); err != nil {
		return nil, err
	}
	// Captures cut short by a crash or a stop are finished before new ones
	// start: converted and marked interrupted.
	if err := converter.Recover(ctx, jobs); err != nil {
		return nil, err
	}
	recorder, err := record.NewRecorder(record.RecorderConfig{
		MinFreeBytes:     uint64(set.Record.MinFreeGB * 1e9),
		MetadataInterval: set.Record.MetadataInterval,
	}, library, a.bus, jobs, tools, a.logger.With("module", "record"))
	if err != nil {
		return nil, err
	}

	resources := []api.Resource{
		&api.Health{DB: a.db, Version: opts.Version},
		api.NewConfigResource(a.cfg, a.bus),
		api.NewChannels(library),
		api.NewVODs(library),
		api.NewEvents(a.db, a.bus),
		api.NewJobs(jobs),
		api.NewWebhooks(hooks),
		api.NewRecord(recorder),
	}
	srv := api.New(a.logger.With("module", "api"), resources...)
	srv.Authorize = auth
	srv.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{}))
	srv.Handle("GET /api/v1/ws", hub)

	// Attempts are kept as long as events; the failing check backs up the
	// one made on every attempt result, for endpoints that stopped being tried.
	attemptRetention := set.Events.Retention
	if attemptRetention <= 0 {
		attemptRetention = job.DefaultEventRetention
	}
	if err := jobs.AddPeriodic("maintenance.prune_webhook_attempts", time.Hour, func(ctx context.Context) error {
		_, err := hooks.PruneAttempts(ctx, time.Now().Add(-attemptRetention))
		return err
	}); err != nil {
		return nil, err
	}
	if err := jobs.AddPeriodic("maintenance.check_failing_webhooks", 15*time.Minute, hooks.CheckFailing); err != nil {
		return nil, err
	}

	if err := hooks.Start(ctx); err != nil {
		return nil, err
	}
	a.onStop("webhook delivery", hooks.Stop)
	if err := jobs.Start(ctx); err != nil {
		return nil, err
	}
	a.onStop("jobs", jobs.Stop)
	if err := hub.Start(ctx); err != nil {
		return nil, err
	}
	a.onStop("websocket", hub.Stop)
	if err := recorder.Start(ctx); err != nil {
		return nil, err
	}
	a.onStop("recorder", recorder.Stop)

	a.listener, err = net.Listen("tcp", set.Server.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", set.Server.Listen, err)
	}
	a.http = &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(inner, slog.LevelWarn),
	}
	if _, err := a.bus.PublishNow(ctx, event.Init{Version: opts.Version, StartedAt: time.Now().UTC(), Instance: a.instance}); err != nil {
		return nil, fmt.Errorf("publish init: %w", err)
	}
	a.logger.Info("serving", "addr", a.listener.Addr().String(), "data", opts.DataDir, "version", opts.Version)
	return a, nil
}

// Addr is the address the server listens on.
func (a *App) Addr() string { return a.listener.Addr().String() }

func (a *App) serve() error {
	if err := a.http.Serve(a.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (a *App) onStop(name string, fn func(ctx context.Context) error) {
	a.stoppers = append(a.stoppers, stopper{name, fn})
}

// Stop stops accepting requests, lets in-flight work finish within ctx, then
// stops every service in reverse start order and closes the database.
func (a *App) Stop(ctx context.Context) error {
	var errs []error
	if a.http != nil {
		if err := a.http.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop http: %w", err))
		}
		a.http = nil
	} else if a.listener != nil {
		a.listener.Close()
	}
	for i := len(a.stoppers) - 1; i >= 0; i-- {
		s := a.stoppers[i]
		if err := s.stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", s.name, err))
		}
	}
	a.stoppers = nil
	return errors.Join(errs...)
}

func (a *App) registerMetrics() {
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	published := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lsdvr_events_published_total",
		Help: "Events committed to the event log, by action.",
	}, []string{"action"})
	a.registry.MustRegister(published)
	a.bus.Subscribe(func(ev *event.Event) { published.WithLabelValues(string(ev.Action)).Inc() })
}

func newInnerHandler(w io.Writer, format string, level slog.Leveler) slog.Handler {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

func parseLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// webhookConfig translates the configuration, where 0 turns jitter, the
// disable period and response logging off, into webhook.Config, where 0
// means the default and a negative value means off.
func webhookConfig(s config.WebhookSettings, reg prometheus.Registerer) webhook.Config {
	offIfZero := func(v float64) float64 {
		if v == 0 {
			return -1
		}
		return v
	}
	c := webhook.Config{
		Schedule:      s.Schedule,
		Jitter:        offIfZero(s.Jitter),
		Timeout:       s.Timeout,
		DisableAfter:  s.DisableAfter,
		Workers:       s.Workers,
		PerEndpoint:   s.PerEndpoint,
		ResponseLimit: s.ResponseLimit,
		Registerer:    reg,
	}
	if s.DisableAfter == 0 {
		c.DisableAfter = -1
	}
	if s.ResponseLimit == 0 {
		c.ResponseLimit = -1
	}
	return c
}
