package job

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/lsdvr/lsdvr/internal/dvr"
)

// PeriodicFunc is the work of a periodic job. Its context is cancelled when
// the job is cancelled, times out or the service stops hard; it may report
// progress with ReportProgress.
type PeriodicFunc func(ctx context.Context) error

// RunPeriodicArgs are the arguments of every periodic job added with
// AddPeriodic: River runs them all under one kind, and Name says which
// function to call. Lists and events show Name as the job's kind.
type RunPeriodicArgs struct {
	Name string `json:"name"`
}

// periodicKind is the River kind of RunPeriodicArgs.
const periodicKind = "periodic"

// Kind implements river.JobArgs.
func (RunPeriodicArgs) Kind() string { return periodicKind }

// periodicMaxAttempts bounds retries of a periodic run: the next run comes
// soon anyway, and failing runs must not pile up.
const periodicMaxAttempts = 3

// InsertOpts puts periodic jobs on the maintenance queue, with few retries.
func (RunPeriodicArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: periodicMaxAttempts}
}

// validPeriodicName reports whether name is dotted words of lowercase
// letters, digits and underscores, each starting with a letter.
func validPeriodicName(name string) bool {
	for word := range strings.SplitSeq(name, ".") {
		if word == "" || word[0] < 'a' || word[0] > 'z' {
			return false
		}
		for _, c := range word {
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
				return false
			}
		}
	}
	return true
}

// periodicWorker runs the function a RunPeriodicArgs names.
type periodicWorker struct {
	river.WorkerDefaults[RunPeriodicArgs]
	svc *Service
}

// Work implements river.Worker.
func (w *periodicWorker) Work(ctx context.Context, job *river.Job[RunPeriodicArgs]) error {
	w.svc.periodicMu.RLock()
	fn, ok := w.svc.periodic[job.Args.Name]
	w.svc.periodicMu.RUnlock()
	if !ok {
		// Left over from an older version that had this job; nothing to do.
		return river.JobCancel(dvr.Errorf(dvr.ENOTFOUND, "no periodic job %q", job.Args.Name))
	}
	return fn(ctx)
}

// AddPeriodic registers fn to run every interval (and once at start) as the
// job name, e.g. "webhook.prune_attempts", on the maintenance queue. It may
// be called before or after Start. Errors: EINVALID for a name that is not
// dotted lowercase words or a non-positive interval, ECONFLICT for a name
// already added.
func (s *Service) AddPeriodic(name string, every time.Duration, fn PeriodicFunc) error {
	if !validPeriodicName(name) {
		return dvr.Errorf(dvr.EINVALID, "periodic job name must be dotted lowercase words like maintenance.prune_events, got %q", name)
	}
	if every <= 0 {
		return dvr.Errorf(dvr.EINVALID, "periodic job %s: interval must be positive, got %s", name, every)
	}
	s.periodicMu.Lock()
	if _, ok := s.periodic[name]; ok {
		s.periodicMu.Unlock()
		return dvr.Errorf(dvr.ECONFLICT, "periodic job %s is already added", name)
	}
	s.periodic[name] = fn
	s.periodicMu.Unlock()
	s.client.PeriodicJobs().Add(river.NewPeriodicJob(
		river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return RunPeriodicArgs{Name: name}, nil },
		&river.PeriodicJobOpts{RunOnStart: true},
	))
	return nil
}

// RunNow inserts a run of the periodic job name to start as soon as a
// maintenance worker is free, publishing its job_save, and returns its job
// id. It does not wait for the run. ENOTFOUND if no such job was added.
func (s *Service) RunNow(ctx context.Context, name string) (string, error) {
	s.periodicMu.RLock()
	_, ok := s.periodic[name]
	s.periodicMu.RUnlock()
	if !ok {
		return "", dvr.Errorf(dvr.ENOTFOUND, "periodic job %q not found", name)
	}
	row, err := s.Insert(ctx, RunPeriodicArgs{Name: name}, nil)
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(row.ID, 10), nil
}

// kindOf is the kind lists and events show: the name of a periodic job,
// River's kind for anything else.
func kindOf(row *rivertype.JobRow) string {
	if row.Kind != periodicKind {
		return row.Kind
	}
	var args RunPeriodicArgs
	if err := json.Unmarshal(row.EncodedArgs, &args); err != nil || args.Name == "" {
		return row.Kind
	}
	return args.Name
}
