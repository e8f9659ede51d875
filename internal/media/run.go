package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lsdvr/lsdvr/internal/dvr"
)

// Output stream names passed to Cmd.OnLine and written to the log file.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// DefaultGrace is how long Run waits after SIGTERM before it sends SIGKILL.
const DefaultGrace = 10 * time.Second

// defaultTail is how many stderr lines an ExitError keeps.
const defaultTail = 20

// maxLine bounds a single output line; longer lines are split, so a tool
// printing without newlines cannot grow memory without limit.
const maxLine = 64 << 10

// Cmd describes one supervised run of an external tool.
type Cmd struct {
	// Path is the executable (absolute, or resolved through PATH).
	Path string
	// Args are the arguments after the executable name, as built by the
	// argv builders of this package.
	Args []string
	// Dir is the working directory; empty means the current one.
	Dir string
	// Env is the environment; nil inherits the parent's.
	Env []string
	// LogPath, when set, receives every output line prefixed with a UTC
	// timestamp and the stream name. The file is appended to, so the parts
	// of one job share one log.
	LogPath string
	// OnLine, when set, is called for every line of stdout and stderr.
	// Lines are split on "\n" and "\r" (progress bars rewrite one line with
	// "\r"), and have no line terminator. Calls are serialized, never
	// concurrent, and must not block for long: the tool stalls while its
	// pipe is full.
	OnLine func(stream, line string)
	// LogLine, when set, decides which lines are written to LogPath; every
	// line still reaches OnLine and the error tail. It lets a long capture
	// thin its progress lines instead of logging several a second.
	LogLine func(stream, line string) bool
	// Grace is how long to wait after SIGTERM before SIGKILL when ctx ends.
	// Zero means DefaultGrace.
	Grace time.Duration
	// MustNotExist lists paths that must not exist when the tool starts:
	// the tool's output files. Run refuses to start (ECONFLICT) when one
	// does, so a capture never writes over an earlier part.
	MustNotExist []string
	// TailLines is how many trailing stderr lines an *ExitError keeps.
	// Zero means 20.
	TailLines int
}

// ExitError reports a tool that did not exit with status 0. It is returned
// by Run for a non-zero exit, a death by signal, and a run stopped because
// its context ended (then Canceled is true and errors.Is(err,
// context.Canceled) or context.DeadlineExceeded holds).
type ExitError struct {
	// Path is the executable that ran.
	Path string
	// Code is the exit status, or -1 when the process died by a signal.
	Code int
	// Signal is the signal that killed the process, or 0.
	Signal syscall.Signal
	// Canceled is true when Run stopped the process because ctx ended.
	Canceled bool
	// Killed is true when the process ignored SIGTERM for the whole grace
	// period and was killed.
	Killed bool
	// Reason is the most telling output line: the last one that reads
	// like an error (from either stream), else the last line of Tail.
	Reason string
	// Tail holds the last stderr lines (the last stdout lines when the tool
	// wrote nothing to stderr), oldest first.
	Tail []string

	cause error
}

// Error returns a one-line reason: the tool, how it ended, and (unless it
// was stopped) the output line that explains it.
func (e *ExitError) Error() string {
	var b strings.Builder
	b.WriteString(toolName(e.Path))
	switch {
	case e.Canceled && e.Killed:
		b.WriteString(" stopped (killed after grace period)")
	case e.Canceled:
		b.WriteString(" stopped")
	case e.Signal != 0:
		fmt.Fprintf(&b, " killed by signal %s", e.Signal)
	default:
		fmt.Fprintf(&b, " exited with code %d", e.Code)
	}
	// A stopped tool's last line is whatever it was doing, not a reason.
	if e.Reason != "" && !e.Canceled {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	return b.String()
}

// Unwrap returns the context's error for a canceled run, else nil.
func (e *ExitError) Unwrap() error { return e.cause }

// Run starts c and waits for it to finish. It returns nil on exit status 0,
// an *ExitError when the tool failed or was stopped, an ECONFLICT *dvr.Error
// when an output in c.MustNotExist already exists, and a wrapped error when
// the tool could not be started or the log could not be opened.
//
// The tool runs in its own process group, so a stop reaches the helpers it
// spawns (streamlink runs ffmpeg to mux). On Linux the group leader also
// gets SIGKILL when this process dies, so no capture outlives lsdvr. When
// ctx ends, the group gets SIGTERM, then SIGKILL after c.Grace. Run always
// waits for the process, and kills what is left of its group afterwards.
func Run(ctx context.Context, c Cmd) error {
	for _, p := range c.MustNotExist {
		if _, err := os.Lstat(p); err == nil {
			return dvr.Errorf(dvr.ECONFLICT, "output %s already exists; refusing to overwrite it", p)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("check output %s: %w", p, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start %s: %w", toolName(c.Path), err)
	}
	grace := c.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	tailN := c.TailLines
	if tailN <= 0 {
		tailN = defaultTail
	}

	var logFile *os.File
	if c.LogPath != "" {
		f, err := os.OpenFile(c.LogPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("open log: %w", err)
		}
		logFile = f
		defer logFile.Close()
	}
	sink := &lineSink{log: logFile, logLine: c.LogLine, onLine: c.OnLine, tailN: tailN}
	if logFile != nil {
		fmt.Fprintf(logFile, "%s run %s %s\n", stamp(), c.Path, quoteArgs(c.Args))
	}

	cmd := exec.Command(c.Path, c.Args...)
	cmd.Dir = c.Dir
	cmd.Env = c.Env
	cmd.Stdin = nil
	cmd.Stdout = sink.writer(Stdout)
	cmd.Stderr = sink.writer(Stderr)
	cmd.SysProcAttr = sysProcAttr()
	// A helper that keeps our pipes open after the tool exits must not
	// keep Run waiting forever.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", toolName(c.Path), err)
	}
	pgid := cmd.Process.Pid

	done := make(chan struct{})
	var canceled, killed bool
	var stopMu sync.Mutex
	go func() {
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		stopMu.Lock()
		canceled = true
		stopMu.Unlock()
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			stopMu.Lock()
			killed = true
			stopMu.Unlock()
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
	}()
	waitErr := cmd.Wait()
	close(done)
	// Reap helpers the tool left behind in its group; ESRCH means none.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	sink.flush()

	stopMu.Lock()
	wasCanceled, wasKilled := canceled, killed
	stopMu.Unlock()
	state := cmd.ProcessState
	if logFile != nil {
		fmt.Fprintf(logFile, "%s exit %s\n", stamp(), state)
	}
	if waitErr == nil && state.Success() {
		return nil
	}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) && !errors.Is(waitErr, exec.ErrWaitDelay) {
		return fmt.Errorf("wait %s: %w", toolName(c.Path), waitErr)
	}
	if state.Success() {
		return nil // only the pipes were held open; the tool itself succeeded
	}
	tail, reason := sink.result()
	e := &ExitError{Path: c.Path, Code: state.ExitCode(), Tail: tail, Reason: reason, Canceled: wasCanceled, Killed: wasKilled}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		e.Signal = ws.Signal()
	}
	if wasCanceled {
		e.cause = context.Cause(ctx)
	}
	return e
}

// lineSink splits both output streams into lines, writes them to the log,
// keeps a tail for ExitError and calls OnLine, all under one lock.
type lineSink struct {
	mu      sync.Mutex
	log     io.Writer
	logLine func(stream, line string) bool
	onLine  func(stream, line string)
	tailN   int
	errTail []string
	outTail []string
	lastErr string
	bufs    map[string]*bytes.Buffer
}

func (s *lineSink) writer(stream string) io.Writer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bufs == nil {
		s.bufs = map[string]*bytes.Buffer{}
	}
	s.bufs[stream] = &bytes.Buffer{}
	return streamWriter{s: s, stream: stream}
}

type streamWriter struct {
	s      *lineSink
	stream string
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	buf := w.s.bufs[w.stream]
	for _, c := range p {
		if c == '\n' || c == '\r' {
			w.s.emit(w.stream, buf)
			continue
		}
		buf.WriteByte(c)
		if buf.Len() >= maxLine {
			w.s.emit(w.stream, buf)
		}
	}
	return len(p), nil
}

// emit handles one complete line; the caller holds s.mu.
func (s *lineSink) emit(stream string, buf *bytes.Buffer) {
	if buf.Len() == 0 {
		return // "\r\n" and blank progress rewrites carry nothing
	}
	line := buf.String()
	buf.Reset()
	if s.log != nil && (s.logLine == nil || s.logLine(stream, line)) {
		fmt.Fprintf(s.log, "%s %s %s\n", stamp(), stream, line)
	}
	if looksLikeError(line) {
		s.lastErr = line
	}
	if stream == Stderr {
		s.errTail = appendTail(s.errTail, line, s.tailN)
	} else {
		s.outTail = appendTail(s.outTail, line, s.tailN)
	}
	if s.onLine != nil {
		s.onLine(stream, line)
	}
}

func (s *lineSink) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, stream := range []string{Stdout, Stderr} {
		if buf := s.bufs[stream]; buf != nil {
			s.emit(stream, buf)
		}
	}
}

// result returns the tail for ExitError and the line that best explains a
// failure.
func (s *lineSink) result() (tail []string, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tail = s.outTail
	if len(s.errTail) > 0 {
		tail = s.errTail
	}
	tail = append([]string(nil), tail...)
	reason = s.lastErr
	if reason == "" && len(tail) > 0 {
		reason = tail[len(tail)-1]
	}
	return tail, reason
}

// looksLikeError reports whether an output line reads like a failure
// reason; progress lines never do, whatever the file name they print.
func looksLikeError(line string) bool {
	if strings.HasPrefix(line, "[download]") || strings.Contains(line, "=") && !strings.Contains(line, " ") {
		return false
	}
	l := strings.ToLower(line)
	for _, w := range []string{"error", "failed", "could not", "unable", "not found", "timed out", "timeout", "invalid", "already exists", "no playable", "refus", "denied"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

func appendTail(tail []string, line string, n int) []string {
	tail = append(tail, line)
	if len(tail) > n {
		tail = append(tail[:0], tail[len(tail)-n:]...)
	}
	return tail
}

func stamp() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

func toolName(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// quoteArgs renders argv for the log so a run can be repeated by hand.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`|&;<>()*?[]#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
