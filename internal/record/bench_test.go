//go:build linux

package record_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/lsdvr/lsdvr/internal/event"
	"github.com/lsdvr/lsdvr/internal/hlstest"
	"github.com/lsdvr/lsdvr/internal/job"
	"github.com/lsdvr/lsdvr/internal/record"
	"github.com/lsdvr/lsdvr/internal/store"
)

// The recording benchmarks:
//
//	go test -run '^$' -bench BenchmarkRecorderCPU -benchtime 1x ./internal/record/
//	go test -run '^$' -bench BenchmarkConvertOverhead -benchtime 7x ./internal/record/
//
// BenchmarkRecorderCPU measures lsdvr's own CPU while it records 10 live
// streams: getrusage(RUSAGE_SELF) of this process, which excludes the
// capture tools (streamlink, ffmpeg) by definition. The streams are served
// by a second process (this test binary re-executed, see TestMain), so
// serving them is not counted either. What is counted: the Recorder's
// goroutines (reading the tools' output, progress, metadata probes, disk
// checks), the job service (River's polling, job_progress events written
// to SQLite), the event bus and the Go runtime (GC, timers). The fixed
// cost of an idle lsdvr (River's polling) is divided among the captures
// too, so the figure per capture is an upper bound.
//
// BenchmarkConvertOverhead times Converter.Convert of a 1 GB capture
// against a bare `ffmpeg -c copy` of the same file.

// Environment of the stream-serving helper process.
const (
	envServeStreams  = "LSDVR_BENCH_SERVE_STREAMS"  // how many streams
	envServeSegments = "LSDVR_BENCH_SERVE_SEGMENTS" // segments of each
)

// TestMain turns the test binary into the stream server of
// BenchmarkRecorderCPU when started with envServeStreams set, and runs the
// tests otherwise.
func TestMain(m *testing.M) {
	if os.Getenv(envServeStreams) != "" {
		os.Exit(serveStreamsProcess())
	}
	os.Exit(m.Run())
}

// serveStreamsProcess serves live hlstest streams from this process: it
// prints one "url <playlist>" line per stream and "ready" once all are
// live, then serves until its stdin closes (the benchmark ends or dies).
func serveStreamsProcess() int {
	n, err1 := strconv.Atoi(os.Getenv(envServeStreams))
	segments, err2 := strconv.Atoi(os.Getenv(envServeSegments))
	if err1 != nil || err2 != nil || n <= 0 || segments <= 0 {
		fmt.Fprintf(os.Stderr, "serve streams: bad %s or %s\n", envServeStreams, envServeSegments)
		return 2
	}
	served := false
	// testing.Benchmark is the one way to get a testing.TB (temp dirs,
	// cleanups) outside a test; the function runs once, for as long as
	// the streams are served.
	testing.Benchmark(func(b *testing.B) {
		if served {
			return
		}
		served = true
		serveStreams(helperTB{b}, n, segments)
	})
	return 0
}

// helperTB reports failures of the helper process on its stderr, which
// the benchmark shows, and exits: testing.Benchmark discards test output.
type helperTB struct{ *testing.B }

func (h helperTB) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "serve streams: "+format+"\n", args...)
	os.Exit(2)
}

func (h helperTB) Fatal(args ...any) { h.Fatalf("%s", fmt.Sprint(args...)) }

func (h helperTB) Errorf(format string, args ...any) { h.Fatalf(format, args...) }

func (h helperTB) Error(args ...any) { h.Fatal(args...) }

func serveStreams(tb testing.TB, n, segments int) {
	streams := make([]*hlstest.Stream, n)
	// Rendering a stream takes about a core: two at a time.
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i := range streams {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			// Offline until all are rendered, so every stream has its
			// whole length ahead of it when the recording starts. The
			// window lists the whole broadcast, as the captures start at
			// its oldest segment.
			streams[i] = hlstest.Start(tb, hlstest.Options{
				SegmentSeconds: 1, Segments: segments, Window: segments,
				Width: 640, Height: 360, Offline: true,
				Title: fmt.Sprintf("Stream %d", i+1), Category: "Benchmarks",
			})
		})
	}
	wg.Wait()
	for _, s := range streams {
		s.GoLive()
		fmt.Printf("url %s\n", s.URL())
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// streamServer is the helper process serving the benchmark's streams.
type streamServer struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	urls  []string
}

// startStreamServer re-executes the test binary to serve n live streams of
// segments one-second segments, and waits until they are live. The
// process stops when the benchmark ends.
func startStreamServer(b *testing.B, n, segments int) *streamServer {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envServeStreams+"="+strconv.Itoa(n), envServeSegments+"="+strconv.Itoa(segments))
	cmd.Stderr = os.Stderr
	// The server must not outlive the benchmark.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	require.NoError(b, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(b, err)
	require.NoError(b, cmd.Start())
	srv := &streamServer{cmd: cmd, stdin: stdin}
	b.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() {
			_ = cmd.Wait()
			close(done)
		}()
		t := time.NewTimer(30 * time.Second)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			_ = cmd.Process.Kill()
			<-done
		}
	})

	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "ready":
				ready <- nil
				_, _ = io.Copy(io.Discard, stdout)
				return
			case strings.HasPrefix(line, "url "):
				srv.urls = append(srv.urls, strings.TrimPrefix(line, "url "))
			}
		}
		ready <- fmt.Errorf("stream server exited before it was ready: %v", sc.Err())
	}()
	t := time.NewTimer(5 * time.Minute)
	defer t.Stop()
	select {
	case err := <-ready:
		require.NoError(b, err)
	case <-t.C:
		b.Fatal("stream server not ready within 5 minutes")
	}
	require.Len(b, srv.urls, n)
	return srv
}

// Shape of BenchmarkRecorderCPU.
const (
	cpuCaptures = 10
	// cpuWindow is one measurement (one b.N iteration).
	cpuWindow = 15 * time.Second
	// cpuSettle is left after every capture has reported progress, so the
	// tools' start-up (reading the window's first segments) is over.
	cpuSettle = 3 * time.Second
	// cpuStartSlack is stream time for the captures to start.
	cpuStartSlack = 30 * time.Second
)

// BenchmarkRecorderCPU records 10 live streams at once (640x360, one-second
// segments, served by a separate process) and measures lsdvr's own CPU over
// b.N windows of 15 s once all captures are running.
//
// Metrics: pct_core_per_capture is this process's user+sys CPU
// (getrusage RUSAGE_SELF: capture tools excluded) as a percentage of one
// core, divided by the number of captures (target <= 1);
// tools_pct_core_per_capture is the same for the capture processes
// (streamlink and the ffmpeg it runs, or ffmpeg), read from /proc, for
// context; job_progress/s is the rate of progress events written.
func BenchmarkRecorderCPU(b *testing.B) {
	for _, backend := range []string{record.BackendStreamlink, record.BackendFFmpeg} {
		b.Run("backend="+backend, func(b *testing.B) { benchRecorderCPU(b, backend) })
	}
}

func benchRecorderCPU(b *testing.B, backend string) {
	b.StopTimer()
	tools := findTools()
	require.True(b, tools.FFmpeg.Found, "ffmpeg: %s", tools.FFmpeg.Error)
	if backend == record.BackendStreamlink {
		require.True(b, tools.Streamlink.Found, "streamlink: %s", tools.Streamlink.Error)
	}
	window := time.Duration(b.N) * cpuWindow
	segments := int((cpuStartSlack + cpuSettle + window).Seconds())
	srv := startStreamServer(b, cpuCaptures, segments)

	ctx := context.Background()
	dir := b.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "lsdvr.db"))
	require.NoError(b, err)
	b.Cleanup(func() { db.Close() })
	bus := event.NewBus(db, nil)
	watch := newCaptureWatch(cpuCaptures)
	bus.Subscribe(watch.add)
	lib := record.NewLibrary(db, bus, filepath.Join(dir, "storage"), nil)
	logger := slog.New(slog.NewTextHandler(b.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))

	// As lsdvr serve wires them: River's default polling, the conversion
	// worker registered, the Recorder's defaults except the start jitter.
	workers := river.NewWorkers()
	conv := record.NewConverter(record.ConverterConfig{FFmpegPath: tools.FFmpeg.Path, FFprobePath: tools.FFprobe.Path}, lib, bus, logger)
	require.NoError(b, conv.AddWorkers(workers))
	jobs, err := job.New(job.Config{Workers: workers}, db, bus, logger)
	require.NoError(b, err)
	require.NoError(b, jobs.Start(ctx))
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(b, jobs.Stop(ctx))
	})
	rec, err := record.NewRecorder(record.RecorderConfig{StartJitter: time.Millisecond}, lib, bus, jobs, tools, logger)
	require.NoError(b, err)
	for i, url := range srv.urls {
		// The shortest poll interval makes the metadata probe of each
		// capture run every 15 s: once per window.
		_, err := lib.CreateChannel(ctx, record.ChannelParams{Name: fmt.Sprintf("bench%02d", i+1), URL: url,
			Backend: backend, PollIntervalSec: record.MinPollInterval})
		require.NoError(b, err)
	}
	require.NoError(b, rec.Start(ctx))
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(b, rec.Stop(ctx))
	})

	watch.wait(b, "every capture to start and report progress", 2*time.Minute, func(w *captureWatch) bool {
		return w.started == cpuCaptures && len(w.progressed) == cpuCaptures
	})
	settle := time.NewTimer(cpuSettle)
	<-settle.C

	// RUSAGE_SELF: every thread of this process, no children.
	self0, _ := cpuTimes(b)
	tools0 := toolsCPU(b, srv.cmd.Process.Pid)
	progress0, ended0 := watch.counts()
	start := time.Now()
	b.StartTimer()
	for range b.N {
		t := time.NewTimer(cpuWindow)
		<-t.C
	}
	b.StopTimer()
	wall := time.Since(start)
	self1, _ := cpuTimes(b)
	tools1 := toolsCPU(b, srv.cmd.Process.Pid)
	progress1, ended1 := watch.counts()
	require.Equal(b, ended0, ended1, "a capture ended during the measurement")

	perCapture := func(cpu time.Duration) float64 {
		return 100 * cpu.Seconds() / wall.Seconds() / cpuCaptures
	}
	b.ReportMetric(perCapture(self1-self0), "pct_core_per_capture")
	b.ReportMetric(perCapture(tools1-tools0), "tools_pct_core_per_capture")
	b.ReportMetric(float64(progress1-progress0)/wall.Seconds(), "job_progress/s")
}

// captureWatch counts the capture events of the bus. It decodes an event
// only until every capture has reported progress once: its own CPU is
// counted by the benchmark.
type captureWatch struct {
	n          int
	mu         sync.Mutex
	started    int
	ended      int
	progress   int
	progressed map[string]bool // job names that reported progress
	changed    chan struct{}
}

func newCaptureWatch(n int) *captureWatch {
	return &captureWatch{n: n, progressed: make(map[string]bool), changed: make(chan struct{})}
}

func (w *captureWatch) add(ev *event.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch ev.Action {
	case event.ActionStartCapture:
		w.started++
	case event.ActionEndCapture:
		w.ended++
	case event.ActionJobProgress:
		w.progress++
		if len(w.progressed) < w.n {
			var env struct {
				Data struct {
					JobName string `json:"job_name"`
				} `json:"data"`
			}
			if json.Unmarshal(ev.Body, &env) == nil && strings.HasPrefix(env.Data.JobName, "capture:") {
				w.progressed[env.Data.JobName] = true
			}
		}
	default:
		return
	}
	close(w.changed)
	w.changed = make(chan struct{})
}

// counts returns the job_progress and end_capture events seen so far.
func (w *captureWatch) counts() (progress, ended int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.progress, w.ended
}

// wait blocks until cond holds (called under the lock) or fails after
// timeout.
func (w *captureWatch) wait(b *testing.B, what string, timeout time.Duration, cond func(*captureWatch) bool) {
	b.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		ok, ch := cond(w), w.changed
		started, ended, progressed := w.started, w.ended, len(w.progressed)
		w.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			b.Fatalf("timed out waiting for %s: %d started, %d reported progress, %d ended", what, started, progressed, ended)
		}
	}
}

// cpuTimes returns the user+sys CPU time of this process and of its
// children that have been waited for.
func cpuTimes(b *testing.B) (self, children time.Duration) {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru))
	return self, time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clockTicks is the unit of CPU times in /proc/PID/stat (USER_HZ), 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// toolsCPU is the user+sys CPU time so far of the running descendants of
// this process, except the subtree of skip (the stream server).
func toolsCPU(b *testing.B, skip int) time.Duration {
	entries, err := os.ReadDir("/proc")
	require.NoError(b, err)
	parent := map[int]int{}
	ticks := map[int]int64{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		// The command name, in parentheses, may hold spaces: fields
		// start after its closing one. Then: state ppid ... utime(14)
		// stime(15), counted from 1 for the pid.
		i := bytes.LastIndexByte(raw, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(raw[i+1:]))
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		parent[pid], ticks[pid] = ppid, utime+stime
	}
	self := os.Getpid()
	var total int64
	for pid, t := range ticks {
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == skip || pid == skip {
				break
			}
			if p == self {
				total += t
				break
			}
		}
	}
	return time.Duration(total) * time.Second / clockTicks
}

// Shape of BenchmarkConvertOverhead.
const (
	// convertTargetBytes is the size of the capture to convert.
	convertTargetBytes = 1 << 30
	// convertClipSeconds is the clip looped into the capture.
	convertClipSeconds = 20
	// convertChapterAt is where the second chapter starts.
	convertChapterAt = 60 * time.Second
)

// BenchmarkConvertOverhead converts a ~1 GB MPEG-TS capture (1080p60 at
// 50 Mb/s, 160 s, two chapters) with Converter.Convert, the whole of it:
// ffprobe of the part, the remux through the concat list with chapters,
// ffprobe of the result, sidecars, deletion of the part and the database
// writes. Each iteration also times a bare
//
//	ffmpeg -nostdin -hide_banner -loglevel warning -nostats -i big.ts -c copy -movflags +faststart -f mp4 -n out.mp4
//
// of the same file; the two alternate which goes first. Each run reads a
// fresh copy of the file (copied outside the timing, so both start from
// the same page-cache state and the part's deletion frees real blocks),
// and the file system is synced before each timed run.
//
// ns/op is Convert's time. Metrics: convert_s and bare_s are the medians,
// ratio is convert_s/bare_s (target <= 1.05), remux_s the median time of
// the remux process alone inside Convert (from convert.log), so that
// convert_s - remux_s is what Convert spends around it; cpu_ratio is the
// same ratio for CPU time (user+sys of lsdvr and every tool it ran, against
// that of the bare ffmpeg), which other load on the machine barely moves.
func BenchmarkConvertOverhead(b *testing.B) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	require.NoError(b, err)
	ffprobe, err := exec.LookPath("ffprobe")
	require.NoError(b, err)
	dir := b.TempDir()
	big := makeBigCapture(b, ffmpeg, dir)
	// The sub-benchmark keeps the 1 GB file across its b.N rounds.
	b.Run("size=1GB", func(b *testing.B) { benchConvert(b, ffmpeg, ffprobe, big) })
}

// makeBigCapture renders a 20 s clip and loops it into a capture of about
// convertTargetBytes.
func makeBigCapture(b *testing.B, ffmpeg, dir string) string {
	b.Helper()
	clip := filepath.Join(dir, "clip.ts")
	runFFmpeg(b, ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=60",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", strconv.Itoa(convertClipSeconds),
		// Constant bitrate with filler, as a platform's ingest sends it.
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "120", "-pix_fmt", "yuv420p",
		"-b:v", "50M", "-minrate", "50M", "-maxrate", "50M", "-bufsize", "25M", "-x264-params", "nal-hrd=cbr",
		"-c:a", "aac", "-b:a", "128k", "-f", "mpegts", "-n", clip)
	fi, err := os.Stat(clip)
	require.NoError(b, err)
	loops := int(math.Ceil(float64(convertTargetBytes)/float64(fi.Size()))) - 1
	big := filepath.Join(dir, "big.ts")
	runFFmpeg(b, ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error",
		"-stream_loop", strconv.Itoa(loops), "-i", clip, "-c", "copy", "-f", "mpegts", "-n", big)
	require.NoError(b, os.Remove(clip))
	return big
}

func runFFmpeg(b *testing.B, ffmpeg string, args ...string) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, ffmpeg, args...).CombinedOutput()
	require.NoError(b, err, "ffmpeg %s: %s", strings.Join(args, " "), out)
}

func benchConvert(b *testing.B, ffmpeg, ffprobe, big string) {
	b.StopTimer()
	b.ResetTimer()
	fi, err := os.Stat(big)
	require.NoError(b, err)
	b.SetBytes(fi.Size())

	tb := setup(b)
	logger := slog.New(slog.NewTextHandler(b.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	conv := record.NewConverter(record.ConverterConfig{FFmpegPath: ffmpeg, FFprobePath: ffprobe}, tb.lib, tb.bus, logger)
	ch, err := tb.lib.CreateChannel(tb.ctx, record.ChannelParams{Name: "bench", URL: "https://example.invalid/bench.m3u8"})
	require.NoError(b, err)
	bare := filepath.Join(filepath.Dir(big), "bare.mp4")
	bareInput := filepath.Join(filepath.Dir(big), "bare.ts")

	ours := make([]time.Duration, 0, b.N)
	theirs := make([]time.Duration, 0, b.N)
	remux := make([]time.Duration, 0, b.N)
	// CPU time (user+sys) of this process and the tools it waited for:
	// unlike wall time, barely moved by other work on the machine.
	oursCPU := make([]time.Duration, 0, b.N)
	theirsCPU := make([]time.Duration, 0, b.N)
	runOurs := func() {
		id, vodDir := convertibleVOD(b, tb, ch.ID, big)
		syscall.Sync()
		self0, children0 := cpuTimes(b)
		b.StartTimer()
		start := time.Now()
		err := conv.Convert(tb.ctx, id, false)
		elapsed := time.Since(start)
		b.StopTimer()
		self1, children1 := cpuTimes(b)
		require.NoError(b, err)
		oursCPU = append(oursCPU, self1-self0+children1-children0)
		v, err := tb.lib.GetVOD(tb.ctx, id)
		require.NoError(b, err)
		require.Equal(b, record.StatusFinalized, v.Status)
		require.NoFileExists(b, filepath.Join(vodDir, record.PartName(v.Basename, 1)), "the part is deleted")
		require.FileExists(b, filepath.Join(vodDir, v.Basename+".mp4"))
		ours = append(ours, elapsed)
		if d, ok := remuxTime(filepath.Join(vodDir, "convert.log")); ok {
			remux = append(remux, d)
		}
		require.NoError(b, os.RemoveAll(vodDir))
	}
	runBare := func() {
		// The same input as Convert gets: a fresh copy, synced.
		copyFile(b, big, bareInput)
		syscall.Sync()
		_, children0 := cpuTimes(b)
		start := time.Now()
		runFFmpeg(b, ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "warning", "-nostats",
			"-i", bareInput, "-c", "copy", "-movflags", "+faststart", "-f", "mp4", "-n", bare)
		theirs = append(theirs, time.Since(start))
		_, children1 := cpuTimes(b)
		theirsCPU = append(theirsCPU, children1-children0)
		require.NoError(b, os.Remove(bare))
		require.NoError(b, os.Remove(bareInput))
	}
	for i := range b.N {
		if i%2 == 0 {
			runOurs()
			runBare()
		} else {
			runBare()
			runOurs()
		}
	}
	oursMed, theirsMed := median(ours), median(theirs)
	b.ReportMetric(oursMed.Seconds(), "convert_s")
	b.ReportMetric(theirsMed.Seconds(), "bare_s")
	b.ReportMetric(oursMed.Seconds()/theirsMed.Seconds(), "ratio")
	if len(remux) == len(ours) {
		b.ReportMetric(median(remux).Seconds(), "remux_s")
	}
	b.ReportMetric(median(oursCPU).Seconds()/median(theirsCPU).Seconds(), "cpu_ratio")
	b.Logf("wall: convert %v, bare %v, remux inside convert %v", ours, theirs, remux)
	b.Logf("cpu: convert %v, bare %v", oursCPU, theirsCPU)
}

// remuxTime reads how long the remux ran from the timestamps that
// media.Run writes to the conversion log ("<time> run ..." and "<time>
// exit ..."); ok is false when the log does not have them.
func remuxTime(logPath string) (d time.Duration, ok bool) {
	raw, err := os.ReadFile(logPath)
	if err != nil {
		return 0, false
	}
	var start, end time.Time
	for line := range strings.Lines(string(raw)) {
		stamp, rest, _ := strings.Cut(line, " ")
		t, err := time.Parse("2006-01-02T15:04:05.000Z", stamp)
		switch {
		case err != nil:
		case strings.HasPrefix(rest, "run ") && start.IsZero():
			start = t
		case strings.HasPrefix(rest, "exit "):
			end = t
		}
	}
	if start.IsZero() || end.Before(start) {
		return 0, false
	}
	return end.Sub(start), true
}

// convertibleVOD makes a VOD as a capture leaves it, with two chapters and
// a copy of big as its only part, and marks it converting.
func convertibleVOD(b *testing.B, tb *testBundle, channelID int64, big string) (int64, string) {
	b.Helper()
	started := tb.clock.Now()
	v, err := tb.lib.CreateVOD(tb.ctx, record.CreateVODParams{ChannelID: channelID, Title: "Bench", StartedAt: started})
	require.NoError(b, err)
	_, err = tb.lib.AddChapter(tb.ctx, v.ID, record.ChapterParams{Title: "Bench", Category: "Just Chatting", StartedAt: started})
	require.NoError(b, err)
	_, err = tb.lib.AddChapter(tb.ctx, v.ID, record.ChapterParams{Title: "Bench", Category: "Tetris", StartedAt: started.Add(convertChapterAt)})
	require.NoError(b, err)
	dir, err := record.VODDir(tb.storage, v.ChannelName, v.Basename)
	require.NoError(b, err)
	require.NoError(b, os.MkdirAll(dir, 0o755))
	copyFile(b, big, filepath.Join(dir, record.PartName(v.Basename, 1)))
	require.NoError(b, os.WriteFile(filepath.Join(dir, record.CaptureLogName), []byte("capture output\n"), 0o644))
	require.NoError(b, tb.db.InTx(tb.ctx, func(tx *store.Tx) error {
		_, err := tb.lib.MarkConverting(tb.ctx, tx, v.ID)
		return err
	}))
	return v.ID, dir
}

func copyFile(b *testing.B, from, to string) {
	b.Helper()
	src, err := os.Open(from)
	require.NoError(b, err)
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	require.NoError(b, err)
	_, err = io.Copy(dst, src)
	require.NoError(b, err)
	require.NoError(b, dst.Close())
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
