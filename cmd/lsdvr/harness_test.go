package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/client"
)

// lsdvrBin is the binary built once for the end-to-end tests.
var lsdvrBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lsdvr-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lsdvrBin = filepath.Join(dir, "lsdvr")
	build := exec.Command("go", "build", "-o", lsdvrBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build lsdvr:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is an `lsdvr serve` child process.
type server struct {
	cmd    *exec.Cmd
	URL    string
	Client *client.Client
	exited chan struct{}

	mu  sync.Mutex
	log strings.Builder
}

var listenRE = regexp.MustCompile(`msg=serving .*addr=(\S+)`)

// startServer runs `lsdvr serve` on a free loopback port with data in dir
// and waits until it serves. env adds LSDVR_* settings.
func startServer(t *testing.T, dir string, env ...string) *server {
	t.Helper()
	cmd := exec.Command(lsdvrBin, "serve", "--data", dir, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "LSDVR_LOG_FORMAT=text")
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	cmd.Stdout = io.Discard
	require.NoError(t, cmd.Start())
	s := &server{cmd: cmd, exited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.log.WriteString(line + "\n")
			s.mu.Unlock()
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			t.Logf("server log:\n%s", s.Log())
		}
	})
	select {
	case a := <-addr:
		s.URL = "http://" + a
	case <-s.exited:
		t.Fatalf("lsdvr serve exited before serving:\n%s", s.Log())
	case <-time.After(30 * time.Second):
		t.Fatalf("lsdvr serve did not start within 30s:\n%s", s.Log())
	}
	s.Client, err = client.New(s.URL, "")
	require.NoError(t, err)
	return s
}

// Log returns what the server has logged so far.
func (s *server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// Kill sends SIGKILL and waits for the process to be gone.
func (s *server) Kill() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-s.exited
}

// Terminate sends SIGTERM and waits up to d for a clean exit.
func (s *server) Terminate(t *testing.T, d time.Duration) {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-s.exited:
	case <-time.After(d):
		t.Fatalf("lsdvr did not stop within %s after SIGTERM", d)
	}
}

// runCLI runs the lsdvr binary as a client of s and returns its stdout.
func runCLI(t *testing.T, s *server, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, lsdvrBin, append([]string{"--server", s.URL}, args...)...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%w: %s", err, errb.String())
	}
	return out.String(), nil
}
