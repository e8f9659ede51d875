#!/usr/bin/env bash
# bench.sh: benchmarks of lsdvr's event backbone, run by `make bench`.
#
# 1. The Go benchmarks of the repository (go test -bench).
# 2. End to end, against a real server on 127.0.0.1 with SQLite in a temp
#    data dir, measured by lsdvr-load:
#      webhook, 1 endpoint, 200 events/s, 20 s      (commit-to-receipt latency)
#      webhook, 1 endpoint, max rate, 15 s          (throughput)
#      webhook, 10 endpoints, max rate, 15 s        (throughput)
#      ws, 1000 clients, 100 events/s, 20 s         (fan-out latency, RSS)
# 3. A summary checked against the targets.
#
# The whole run takes about 5 minutes. Results are noisy when the machine
# is busy: the load average is printed before each step.
#
# Environment: GO (default go), BENCHTIME (default 2s, for go test
# -benchtime), SKIP_GO_BENCH=1 skips step 1, KEEP=1 keeps the work dir.
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
BENCHTIME=${BENCHTIME:-2s}

work=$(mktemp -d "${TMPDIR:-/tmp}/lsdvr-bench.XXXXXX")
server_pid=

cleanup() {
	if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [[ ${KEEP:-} == 1 ]]; then
		echo "kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

step() {
	echo
	echo "== $* (load average $(loadavg))"
}

# 1000 websocket clients need as many descriptors on each side.
ulimit -n 8192 2>/dev/null || true

# --- 1. Go benchmarks -------------------------------------------------------
go_status=0
if [[ ${SKIP_GO_BENCH:-} != 1 ]]; then
	step "go test -run '^\$' -bench . -benchmem -benchtime $BENCHTIME ./..."
	"$GO" test -run '^$' -bench . -benchmem -benchtime "$BENCHTIME" -count 1 -timeout 8m ./... \
		2>&1 | tee "$work/go-bench.txt" || true
	go_status=${PIPESTATUS[0]}
fi

# --- 2. End to end ----------------------------------------------------------
step "build bin/lsdvr and bin/lsdvr-load"
mkdir -p bin
"$GO" build -trimpath -o bin/lsdvr ./cmd/lsdvr
"$GO" build -trimpath -o bin/lsdvr-load ./cmd/lsdvr-load

bin/lsdvr serve --data "$work/data" --listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
server_pid=$!
addr=
for _ in $(seq 300); do
	addr=$(sed -n 's/.*msg=serving addr=\([^ ]*\).*/\1/p' "$work/server.log" | head -n1)
	[[ -n $addr ]] && break
	if ! kill -0 "$server_pid" 2>/dev/null; then
		cat "$work/server.log" >&2
		echo "bench: the server exited before serving" >&2
		exit 1
	fi
	sleep 0.1
done
if [[ -z $addr ]]; then
	echo "bench: the server did not log msg=serving within 30 s" >&2
	exit 1
fi
server="http://$addr"
echo "server $server (pid $server_pid), data $work/data"

declare -A run_load
run() { # name, then lsdvr-load arguments
	local name=$1
	shift
	run_load[$name]=$(loadavg)
	step "$name: bin/lsdvr-load $*"
	bin/lsdvr-load "$@" --server "$server" --pid "$server_pid" 2>&1 | tee "$work/$name.txt" ||
		echo "bench: $name failed"
}

run webhook-200 webhook --endpoints 1 --rate 200 --duration 20s
run webhook-max-1 webhook --endpoints 1 --rate 0 --duration 15s --publishers 8
run webhook-max-10 webhook --endpoints 10 --rate 0 --duration 15s --publishers 8
run ws-1000 ws --clients 1000 --rate 100 --duration 20s --grace 3s

step "stop the server (SIGTERM)"
kill -TERM "$server_pid"
wait "$server_pid" || echo "server exited with status $?"
server_pid=

# --- 3. Summary -------------------------------------------------------------
# ms converts a Go duration (850µs, 1.2ms, 1.5s) to milliseconds.
ms() {
	awk -v d="$1" 'BEGIN {
		if (d ~ /µs$/) { sub(/µs$/, "", d); print d / 1000 }
		else if (d ~ /ms$/) { sub(/ms$/, "", d); print d + 0 }
		else if (d ~ /s$/) { sub(/s$/, "", d); print d * 1000 }
		else print -1 }'
}
# field prints the word after $2 on the first line of file $1 matching $3.
field() { grep -m1 -- "$3" "$1" | sed -n "s/.*$2 \([^ ]*\).*/\1/p"; }
check() { # label, value, op, limit
	if awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN { exit !((op == "<=" && v <= l) || (op == ">=" && v >= l) || (op == "<" && v < l)) }'; then
		printf '  %-58s %10s %s %-8s ok\n' "$1" "$2" "$3" "$4"
	else
		printf '  %-58s %10s %s %-8s MISSED\n' "$1" "$2" "$3" "$4"
	fi
}

echo
echo "== summary"
if [[ -f $work/go-bench.txt ]]; then
	echo "go benchmarks (go test status $go_status):"
	grep -E '^(Benchmark|ok|FAIL|---)' "$work/go-bench.txt" | sed 's/^/  /'
fi
for name in webhook-200 webhook-max-1 webhook-max-10 ws-1000; do
	echo "$name (load average at start ${run_load[$name]}):"
	grep -E '^(published|deliveries|latency|signature|undelivered|attempt log|reached|publish to|dropped|server memory)' \
		"$work/$name.txt" | sed 's/^/  /'
done
echo "targets:"
f=$work/webhook-200.txt
check "commit-to-receipt p50 at 200/s, 1 endpoint (ms)" "$(ms "$(field "$f" p50 '^latency')")" "<=" 5
check "commit-to-receipt p99 at 200/s, 1 endpoint (ms)" "$(ms "$(field "$f" p99 '^latency')")" "<=" 25
check "deliveries/s, 1 endpoint, max rate" "$(sed -n 's/^deliveries: [^,]*, \([0-9.]*\)\/s.*/\1/p' "$work/webhook-max-1.txt")" ">=" 3000
check "deliveries/s in total, 10 endpoints, max rate" "$(sed -n 's/^deliveries: [^,]*, \([0-9.]*\)\/s.*/\1/p' "$work/webhook-max-10.txt")" ">=" 3000
f=$work/ws-1000.txt
check "ws publish to last of 1000 clients p99 at 100/s (ms)" "$(ms "$(field "$f" p99 '^publish to last client')")" "<=" 50
check "ws server peak RSS (MB)" "$(sed -n 's/.*peak \([0-9]*\) kB.*/\1/p' "$f" | awk '{ printf "%.1f", $1 / 1024 }')" "<" 150
for name in webhook-200 webhook-max-1 webhook-max-10; do
	f=$work/$name.txt
	grep -q '^signature failures: 0$' "$f" || echo "  $name: SIGNATURE FAILURES"
	grep -q '^undelivered after .* grace: 0$' "$f" || echo "  $name: UNDELIVERED EVENTS"
done
echo "load average now: $(loadavg)"
exit "$go_status"
