package media_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/dvr"
	"github.com/lsdvr/lsdvr/internal/media"
)

type runBundle struct {
	ctx context.Context
	dir string
}

func setupRun(t *testing.T) *runBundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return &runBundle{ctx: ctx, dir: t.TempDir()}
}

// lines collects OnLine calls and signals when a given line arrives.
type lines struct {
	mu    sync.Mutex
	got   []string
	want  string
	found chan struct{}
}

func newLines(want string) *lines { return &lines{want: want, found: make(chan struct{})} }

func (l *lines) onLine(stream, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, stream+": "+line)
	if line == l.want {
		close(l.found)
	}
}

func (l *lines) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.got...)
}

func TestRunDeliversLinesAndLogs(t *testing.T) {
	t.Parallel()
	b := setupRun(t)
	logPath := filepath.Join(b.dir, "job.log")
	l := newLines("")
	err := media.Run(b.ctx, media.Cmd{
		Path:    "/bin/sh",
		Args:    []string{"-c", `echo first; echo oops >&2; printf 'p1\rp2\r\n'; printf 'no newline'`},
		LogPath: logPath,
		OnLine:  l.onLine,
	})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"stdout: first", "stderr: oops", "stdout: p1", "stdout: p2", "stdout: no newline"}, l.all())

	log, err := os.ReadFile(logPath)
	require.NoError(t, err)
	require.Contains(t, string(log), " run /bin/sh -c 'echo first;")
	require.Contains(t, string(log), " stdout first\n")
	require.Contains(t, string(log), " stderr oops\n")
	require.Contains(t, string(log), " exit exit status 0\n")

	// A second run appends to the same job log.
	require.NoError(t, media.Run(b.ctx, media.Cmd{Path: "/bin/sh", Args: []string{"-c", "echo again"}, LogPath: logPath}))
	log, err = os.ReadFile(logPath)
	require.NoError(t, err)
	require.Contains(t, string(log), " stdout first\n")
	require.Contains(t, string(log), " stdout again\n")
}

func TestRunLogLineThinsTheLogOnly(t *testing.T) {
	t.Parallel()
	b := setupRun(t)
	logPath := filepath.Join(b.dir, "job.log")
	l := newLines("")
	err := media.Run(b.ctx, media.Cmd{
		Path:    "/bin/sh",
		Args:    []string{"-c", `echo keep; echo progress 1; echo progress 2; echo keep too`},
		LogPath: logPath,
		OnLine:  l.onLine,
		LogLine: func(_, line string) bool { return !strings.HasPrefix(line, "progress") },
	})
	require.NoError(t, err)
	require.Len(t, l.all(), 4, "every line still reaches OnLine")
	log, err := os.ReadFile(logPath)
	require.NoError(t, err)
	require.Contains(t, string(log), " stdout keep\n")
	require.Contains(t, string(log), " stdout keep too\n")
	require.NotContains(t, string(log), "stdout progress")
}

func TestRunExitError(t *testing.T) {
	t.Parallel()
	b := setupRun(t)
	tests := []struct {
		name       string
		script     string
		wantCode   int
		wantSignal syscall.Signal
		wantReason string
		wantMsg    string
	}{
		{
			name:     "exit code with the error line as reason",
			script:   `echo "error: No playable streams found on this URL: x"; echo "[download] Written 1 KiB (0s)" >&2; exit 3`,
			wantCode: 3, wantReason: "error: No playable streams found on this URL: x",
			wantMsg: "sh exited with code 3: error: No playable streams found on this URL: x",
		},
		{
			name:     "last stderr line without an error word",
			script:   `echo bye >&2; exit 1`,
			wantCode: 1, wantReason: "bye", wantMsg: "sh exited with code 1: bye",
		},
		{
			name:     "killed by a signal",
			script:   `kill -KILL $$`,
			wantCode: -1, wantSignal: syscall.SIGKILL, wantMsg: "sh killed by signal killed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := media.Run(b.ctx, media.Cmd{Path: "/bin/sh", Args: []string{"-c", tt.script}})
			var exitErr *media.ExitError
			require.ErrorAs(t, err, &exitErr)
			require.Equal(t, tt.wantCode, exitErr.Code)
			require.Equal(t, tt.wantSignal, exitErr.Signal)
			require.Equal(t, tt.wantReason, exitErr.Reason)
			require.False(t, exitErr.Canceled)
			require.EqualError(t, err, tt.wantMsg)
		})
	}
}

func TestRunRefusesExistingOutput(t *testing.T) {
	t.Parallel()
	b := setupRun(t)
	out := filepath.Join(b.dir, "part-001.ts")
	require.NoError(t, os.WriteFile(out, []byte("kept"), 0o644))
	marker := filepath.Join(b.dir, "ran")
	err := media.Run(b.ctx, media.Cmd{Path: "/bin/sh", Args: []string{"-c", "touch " + marker}, MustNotExist: []string{out}})
	require.Equal(t, dvr.ECONFLICT, dvr.ErrorCode(err))
	require.ErrorContains(t, err, "part-001.ts already exists")
	require.NoFileExists(t, marker, "the tool must not start")
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, "kept", string(data))
}

func TestRunMissingExecutable(t *testing.T) {
	t.Parallel()
	b := setupRun(t)
	err := media.Run(b.ctx, media.Cmd{Path: filepath.Join(b.dir, "nope")})
	require.ErrorContains(t, err, "start nope:")
	var exitErr *media.ExitError
	require.False(t, errors.As(err, &exitErr))
}

func TestRunCancelSendsSIGTERM(t *testing.T) {
	t.Parallel()
	b := setupRun(t)
	l := newLines("ready")
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	go func() {
		<-l.found
		cancel()
	}()
	// The shell exits 42 on SIGTERM, proving the signal arrived before
	// any SIGKILL.
	err := media.Run(ctx, media.Cmd{
		Path:   "/bin/sh",
		Args:   []string{"-c", `trap 'echo got term; exit 42' TERM; echo ready; while :; do sleep 0.05; done`},
		OnLine: l.onLine,
		Grace:  10 * time.Second,
	})
	var exitErr *media.ExitError
	require.ErrorAs(t, err, &exitErr)
	require.True(t, exitErr.Canceled)
	require.False(t, exitErr.Killed)
	require.Equal(t, 42, exitErr.Code)
	require.ErrorIs(t, err, context.Canceled)
	require.Contains(t, l.all(), "stdout: got term")
}

func TestRunKillsAfterGrace(t *testing.T) {
	t.Parallel()
	b := setupRun(t)
	l := newLines("ready")
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	go func() {
		<-l.found
		cancel()
	}()
	start := time.Now()
	err := media.Run(ctx, media.Cmd{
		Path:   "/bin/sh",
		Args:   []string{"-c", `trap '' TERM; echo ready; while :; do sleep 0.05; done`},
		OnLine: l.onLine,
		Grace:  200 * time.Millisecond,
	})
	var exitErr *media.ExitError
	require.ErrorAs(t, err, &exitErr)
	require.True(t, exitErr.Canceled)
	require.True(t, exitErr.Killed)
	require.Equal(t, syscall.SIGKILL, exitErr.Signal)
	require.Less(t, time.Since(start), 10*time.Second)
	require.EqualError(t, err, "sh stopped (killed after grace period)")
}

// TestRunStopsWholeProcessGroup proves a helper the tool spawned (as
// streamlink spawns ffmpeg) is stopped with it.
func TestRunStopsWholeProcessGroup(t *testing.T) {
	t.Parallel()
	b := setupRun(t)
	l := newLines("ready")
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	pidc := make(chan int, 1)
	go func() {
		<-l.found
		for _, line := range l.all() {
			if s, ok := strings.CutPrefix(line, "stdout: child "); ok {
				pid, _ := strconv.Atoi(s)
				pidc <- pid
			}
		}
		cancel()
	}()
	err := media.Run(ctx, media.Cmd{
		Path:   "/bin/sh",
		Args:   []string{"-c", `sleep 1000 & echo "child $!"; echo ready; wait`},
		OnLine: l.onLine,
		Grace:  5 * time.Second,
	})
	var exitErr *media.ExitError
	require.ErrorAs(t, err, &exitErr)
	require.True(t, exitErr.Canceled)
	pid := <-pidc
	requireGone(t, pid)
}

// TestRunNoOrphanWhenParentDies kills a parent process that supervises a
// tool with Run and proves the tool does not outlive it.
func TestRunNoOrphanWhenParentDies(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MEDIA_HELPER_PARENT=1")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	pidc := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if s, ok := strings.CutPrefix(sc.Text(), "tool pid "); ok {
				pid, _ := strconv.Atoi(s)
				pidc <- pid
			}
		}
	}()
	var pid int
	select {
	case pid = <-pidc:
	case <-time.After(20 * time.Second):
		t.Fatal("helper parent did not start its tool")
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	requireGone(t, pid)
}

// requireGone waits for pid to disappear (or be a zombie waiting for a
// reaper, which is dead all the same).
func requireGone(t *testing.T, pid int) {
	t.Helper()
	require.Positive(t, pid)
	require.Eventually(t, func() bool {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return true
		}
		// Format: pid (comm) state ...
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		return len(fields) > 0 && fields[0] == "Z"
	}, 10*time.Second, 20*time.Millisecond, "process %d survived", pid)
}
