package job

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/event"
)

// State is where a job is in its life, as the job_* events and the job list
// report it.
type State string

// The states of a job. Pending, running and retryable jobs are in the live
// list; completed, failed and cancelled are final.
const (
	StatePending   State = "pending"   // waiting to run (also after a snooze or an interrupted shutdown)
	StateRunning   State = "running"   // working now
	StateRetryable State = "retryable" // the last attempt failed; it will be retried
	StateCompleted State = "completed" // finished successfully
	StateFailed    State = "failed"    // finished with an error and will not be retried
	StateCancelled State = "cancelled" // cancelled by a user or by the job itself
)

// Final reports whether s ends a job's life.
func (s State) Final() bool {
	return s == StateCompleted || s == StateFailed || s == StateCancelled
}

// Valid reports whether s is one of the states above.
func (s State) Valid() bool {
	switch s {
	case StatePending, StateRunning, StateRetryable, StateCompleted, StateFailed, StateCancelled:
		return true
	}
	return false
}

// Live is a job in the live list: the job of the job_* events plus the name
// its events carry and its latest progress text. It marshals as the event's
// job object with "name" and "progress_text" added.
type Live struct {
	Name string `json:"name"`
	event.Job
	ProgressText string `json:"progress_text,omitempty"`
}

// trackedPrefix starts the id of every tracked (non-River) job.
const trackedPrefix = "t-"

// isTrackedID reports whether id is "t-" and 1 to 40 lowercase letters or
// digits.
func isTrackedID(id string) bool {
	rest, ok := strings.CutPrefix(id, trackedPrefix)
	if !ok || len(rest) == 0 || len(rest) > 40 {
		return false
	}
	for _, c := range rest {
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// ParseID checks a job id as it arrives from outside: a River job id is a
// positive integer ("42"), a tracked job id is "t-" and lowercase letters and
// digits. It returns the River id, or 0 for a tracked id, and an EINVALID
// error for anything else.
func ParseID(id string) (riverID int64, err error) {
	if isTrackedID(id) {
		return 0, nil
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
		return 0, dvr.Errorf(dvr.EINVALID, "job id must be a positive integer or t-<letters and digits>, got %q", id)
	}
	return n, nil
}

// riverState maps River's job state to ours.
func riverState(s rivertype.JobState) State {
	switch s {
	case rivertype.JobStateRunning:
		return StateRunning
	case rivertype.JobStateRetryable:
		return StateRetryable
	case rivertype.JobStateCompleted:
		return StateCompleted
	case rivertype.JobStateDiscarded:
		return StateFailed
	case rivertype.JobStateCancelled:
		return StateCancelled
	default: // available, scheduled, pending
		return StatePending
	}
}

// jobOf describes a River job row in the events' shape; now is the update
// time.
func jobOf(row *rivertype.JobRow, now time.Time) event.Job {
	j := event.Job{
		ID:        strconv.FormatInt(row.ID, 10),
		Kind:      kindOf(row),
		State:     string(riverState(row.State)),
		Attempt:   row.Attempt,
		Metadata:  map[string]any{"queue": row.Queue},
		CreatedAt: row.CreatedAt.UTC(),
		UpdatedAt: now.UTC(),
	}
	if row.FinalizedAt != nil {
		j.UpdatedAt = row.FinalizedAt.UTC()
	}
	if n := len(row.Errors); n > 0 && row.State != rivertype.JobStateCompleted {
		j.Error = row.Errors[n-1].Error
	}
	return j
}

// riverName is the job_name of a River job: "<kind>:<id>".
func riverName(kind string, id int64) string { return kind + ":" + strconv.FormatInt(id, 10) }

// errText is err's message, or "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// errCancelled is the cause a job's context carries when Service.Cancel
// cancelled it.
var errCancelled = errors.New("job cancelled")
