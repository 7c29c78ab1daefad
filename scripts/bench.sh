#!/usr/bin/env bash
# `npm run bench`: builds Postern, starts it (pass-through config bench/postern-bench.yaml) and the
# reference milters from ../shared/bench (libmilter C with and without its header, pymilter), plus
# Postern's server with no policy modules, all on loopback ports, and runs the same milter-protocol
# load (bench/load.ts) against each, interleaved over several rounds so machine noise hits all alike.
# Prints a table: msgs/s, EOM p50/p99, ratio to libmilter accept-only, and the goal check.
#
# Environment: BENCH_SESSIONS (64), BENCH_DURATION seconds per run (5), BENCH_ROUNDS (3),
# BENCH_MODES messages per connection, space-separated ("1 100"), BENCH_OUT build dir (dist),
# BENCH_SHARED (../shared), BENCH_SKIP_BUILD=1 to reuse a build, BENCH_PIN=1 to pin every milter to
# CPU 1 and the load generator to CPU 0 (taskset): on a shared 2-core machine this keeps a
# multi-threaded milter from winning by spreading over both cores while single-threaded Node cannot.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${BENCH_OUT:-dist}
SHARED=${BENCH_SHARED:-$ROOT/../shared}
SESSIONS=${BENCH_SESSIONS:-64}
DURATION=${BENCH_DURATION:-5}
ROUNDS=${BENCH_ROUNDS:-3}
MODES=${BENCH_MODES:-"1 100"}
PIN_MILTER=()
PIN_LOAD=()
if [ "${BENCH_PIN:-}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  PIN_MILTER=(taskset -c 1)
  PIN_LOAD=(taskset -c 0)
  echo "bench: milters pinned to CPU 1, load generator to CPU 0" >&2
fi

if [ "${BENCH_SKIP_BUILD:-}" != 1 ]; then
  echo "bench: building into $OUT" >&2
  if [ "$OUT" = dist ]; then npx tsc -p tsconfig.json || true
  else npx tsc -p tsconfig.json --outDir "$OUT" --tsBuildInfoFile "$OUT/.tsbuildinfo" || true
  fi
fi
[ -f "$OUT/src/cli/main.js" ] && [ -f "$OUT/bench/load.js" ] || { echo "bench: build output missing in $OUT" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/postern-bench.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.2
  done
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_port() {
  for _ in $(seq 1 150); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench: nothing listening on port $1 ($2); log:" >&2
  cat "$WORK/$2.log" >&2 || true
  return 1
}

LABELS=()
TARGETS=()
TPIDS=()
start() { # label logname command...
  local label=$1 log=$2 port=$3
  shift 3
  "${PIN_MILTER[@]}" "$@" >"$WORK/$log.log" 2>&1 &
  PIDS+=($!)
  TPIDS+=($!)
  wait_port "$port" "$log"
  LABELS+=("$label")
  TARGETS+=("inet:$port@127.0.0.1")
}

P_POSTERN=$(free_port)
start "postern serve" postern "$P_POSTERN" node "$OUT/src/cli/main.js" serve --config bench/postern-bench.yaml --listen "inet:$P_POSTERN@127.0.0.1"
P_PASS=$(free_port)
start "postern server, no modules" passthrough "$P_PASS" node "$OUT/bench/passthrough.js" "inet:$P_PASS@127.0.0.1"

REF=$SHARED/bench
if [ -f "$REF/ref-libmilter.c" ] && [ -f /usr/include/libmilter/mfapi.h ]; then
  gcc -O2 -o "$WORK/ref-libmilter" "$REF/ref-libmilter.c" -lmilter -lpthread
  P_LMN=$(free_port)
  start "libmilter accept-only" libmilter-nohdr "$P_LMN" "$WORK/ref-libmilter" "inet:$P_LMN@127.0.0.1" nohdr
  P_LM=$(free_port)
  start "libmilter add header" libmilter "$P_LM" "$WORK/ref-libmilter" "inet:$P_LM@127.0.0.1"
else
  echo "bench: libmilter reference not available (need $REF/ref-libmilter.c and libmilter-dev)" >&2
fi
if [ -f "$REF/ref-pymilter.py" ] && /usr/bin/python3 -c 'import Milter' 2>/dev/null; then
  P_PY=$(free_port)
  start "pymilter add header" pymilter "$P_PY" /usr/bin/python3 "$REF/ref-pymilter.py" "inet:$P_PY@127.0.0.1"
else
  echo "bench: pymilter reference not available (need python3-milter)" >&2
fi

RESULTS=$WORK/results.jsonl
CORPUS_ARGS=()
[ -d "$SHARED/corpus" ] && CORPUS_ARGS=(--corpus "$SHARED/corpus")
# Warm every target up first (JIT, thread pools, caches) so round 1 is not a cold start.
for i in "${!TARGETS[@]}"; do
  echo "bench: warming up ${LABELS[$i]}" >&2
  node "$OUT/bench/load.js" --target "${TARGETS[$i]}" --sessions "$SESSIONS" --duration 2 --warmup 0 \
    --per-conn 10 "${CORPUS_ARGS[@]}" --json >/dev/null
done
for mode in $MODES; do
  for round in $(seq 1 "$ROUNDS"); do
    for i in "${!TARGETS[@]}"; do
      echo "bench: round $round/$ROUNDS, $mode msg/conn: ${LABELS[$i]}" >&2
      "${PIN_LOAD[@]}" node "$OUT/bench/load.js" --target "${TARGETS[$i]}" --label "${LABELS[$i]}" --sessions "$SESSIONS" \
        --duration "$DURATION" --warmup 1 --per-conn "$mode" --server-pid "${TPIDS[$i]}" "${CORPUS_ARGS[@]}" --json >>"$RESULTS"
    done
  done
done
node "$OUT/bench/table.js" "$RESULTS" "libmilter accept-only" "postern serve"
