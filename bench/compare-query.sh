#!/usr/bin/env bash
# PromQL latency: this engine vs Prometheus 2.42 on the same data, same machine, same run.
#
# usage (from the repository root): bench/compare-query.sh [SERIES] [ITERATIONS]
#   SERIES      number of series (default 10000); 2 h of 15 s scrapes each (4.8M samples at 10000)
#   ITERATIONS  timed runs per query and kind, on each side (default 20; 5 untimed warm-up runs first)
# Environment:
#   HOURS, STEP_SECONDS   data set shape (default 2 and 15)
#   WARMUP                untimed runs per query and kind (default 5)
#   EVAL_OFFSET           queries run at the last scrape + this many seconds (default 7: off the scrape grid;
#                         with 0, rate() differs from Prometheus 2.42 by design, see docs/benchmarks.md)
#   WORK=DIR              working directory (default: a temporary one, removed at exit); KEEP=1 keeps it
#   PORT                  Prometheus's port on 127.0.0.1 (default 19098)
#   TSDB_QUERY_BENCH      the engine's command (default: ./tsdb bench query; TSDB_JAVA_OPTS and
#                         TSDB_NO_BUILD apply to it as to any ./tsdb command)
#
# 1. `tsdb bench query --openmetrics $WORK/data.om --dir $WORK/tsdb` generates the data set, writes it
#    into a fresh store and into an OpenMetrics file, and times each query in process (engine=tsdb: the
#    library call; engine=tsdb+json: plus encoding the result as the API's JSON body).
# 2. `promtool tsdb create-blocks-from openmetrics` turns the file into Prometheus blocks; Prometheus is
#    started on them (no scrape targets, 100y retention) and each query is timed over its HTTP API with
#    `curl -w %{time_total}` (engine=prometheus: HTTP round trip on 127.0.0.1 + evaluation + JSON).
# 3. Per query and kind: the result's series count, points and sum of all values on both sides must
#    agree (a mismatch is printed as CHECK MISMATCH and the script exits 1), then the p50/p99 ratios.
# The engine's queries run while Prometheus is not running, and Prometheus's while the JVM has exited.
set -euo pipefail

SERIES=${1:-10000}
ITER=${2:-20}
HOURS=${HOURS:-2}
STEP_SECONDS=${STEP_SECONDS:-15}
WARMUP=${WARMUP:-5}
PORT=${PORT:-19098}
root=$(pwd)
[ -x "$root/tsdb" ] || { echo "compare-query: run me from the repository root (no ./tsdb here)" >&2; exit 2; }
for n in "$SERIES" "$ITER" "$HOURS" "$STEP_SECONDS" "$WARMUP" "$PORT" "${EVAL_OFFSET:-7}"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "compare-query: not a number: $n" >&2; exit 2; }
done
[ "$ITER" -ge 1 ] && [ "$ITER" -le 10000 ] || { echo "compare-query: ITERATIONS must be in [1, 10000]" >&2; exit 2; }
for tool in prometheus promtool curl python3; do
  command -v "$tool" >/dev/null || { echo "compare-query: $tool is not installed" >&2; exit 2; }
done

if [ -n "${WORK:-}" ]; then
  work=$WORK; mkdir -p "$work"
  [ -z "$(ls -A "$work")" ] || { echo "compare-query: WORK=$work is not empty" >&2; exit 2; }
else
  work=$(mktemp -d -t tsdb-compare-query.XXXXXX)
fi
ppid=
cleanup() {
  if [ -n "$ppid" ]; then kill "$ppid" 2>/dev/null || true; wait "$ppid" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" != 1 ] && [ -z "${WORK:-}" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${TSDB_QUERY_BENCH:-}" ]; then
  read -r -a bench <<< "$TSDB_QUERY_BENCH"
else
  bench=(./tsdb bench query)
fi

echo "# compare-query: $(date -u +%FT%TZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')),"\
     "$(free -g | awk '/Mem:/ {print $2}') GiB RAM; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $(prometheus --version 2>&1 | head -1); $(java -version 2>&1 | head -1)"
echo "# engine command: ${bench[*]}"
echo "# work dir: $work"

# --- 1. the engine: data set, store, OpenMetrics file, in-process timings
"${bench[@]}" --series "$SERIES" --hours "$HOURS" --step-seconds "$STEP_SECONDS" --iterations "$ITER" \
  --warmup "$WARMUP" --eval-offset-seconds "${EVAL_OFFSET:-7}" --dir "$work/tsdb" --openmetrics "$work/data.om" | tee "$work/tsdb.out"
cfg=$(grep '^query-bench-config ' "$work/tsdb.out") || { echo "compare-query: no query-bench-config line from the engine" >&2; exit 1; }
field() { echo "$cfg" | grep -o "$1=[0-9]*" | cut -d= -f2; }
T=$(field instant_time); START=$(field range_start); END=$(field range_end); RSTEP=$(field range_step_s)
rm -rf "$work/tsdb"

# --- 2. Prometheus: blocks from the same data, then the HTTP API
echo "# promtool tsdb create-blocks-from openmetrics ($(du -h "$work/data.om" | cut -f1) of OpenMetrics text) ..."
t0=$(date +%s.%N)
promtool tsdb create-blocks-from openmetrics --quiet "$work/data.om" "$work/prom" > "$work/promtool.log" 2>&1 \
  || { cat "$work/promtool.log" >&2; echo "compare-query: promtool failed" >&2; exit 1; }
echo "# promtool: $(ls "$work/prom" | wc -l) block(s) in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
[ "${KEEP:-0}" = 1 ] || rm -f "$work/data.om"

printf 'global:\n  scrape_interval: 1h\n  evaluation_interval: 1h\n' > "$work/prom.yml"
prometheus --config.file="$work/prom.yml" --storage.tsdb.path="$work/prom" --storage.tsdb.retention.time=100y \
  --web.listen-address="127.0.0.1:$PORT" > "$work/prom.log" 2>&1 &
ppid=$!
base="http://127.0.0.1:$PORT"
ready=0
for _ in $(seq 1 240); do
  if [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$base/-/ready" || true)" = 200 ]; then
    ready=1; break
  fi
  kill -0 "$ppid" 2>/dev/null || break
  sleep 0.5
done
[ "$ready" = 1 ] || { tail -20 "$work/prom.log" >&2; echo "compare-query: Prometheus did not become ready" >&2; exit 1; }
echo "# prometheus ready on $base (pid $ppid)"

# the queries are those the engine timed, in its order (one per line; the engine escapes " and \)
python3 - "$work/tsdb.out" > "$work/queries.txt" <<'EOF'
import re, sys
seen = []
for line in open(sys.argv[1]):
    m = re.match(r'query-check engine=tsdb kind=\w+ query="((?:[^"\\]|\\.)*)"', line)
    if m:
        q = re.sub(r'\\(.)', r'\1', m.group(1))
        if q not in seen:
            seen.append(q)
print("\n".join(seen))
EOF

# one request: prints "http_code time_total"; the body goes to $1
request() {  # $1 body file, $2 kind, $3 query
  if [ "$2" = instant ]; then
    curl -s -G -m 120 -o "$1" -w '%{http_code} %{time_total}\n' --data-urlencode "query=$3" \
      --data-urlencode "time=$T" "$base/api/v1/query"
  else
    curl -s -G -m 120 -o "$1" -w '%{http_code} %{time_total}\n' --data-urlencode "query=$3" \
      --data-urlencode "start=$START" --data-urlencode "end=$END" --data-urlencode "step=$RSTEP" "$base/api/v1/query_range"
  fi
}
i=0
while IFS= read -r q; do
  [ -n "$q" ] || continue
  for kind in instant range; do
    for _ in $(seq 1 "$WARMUP"); do request /dev/null "$kind" "$q" > /dev/null; done
    : > "$work/times-$i-$kind"
    for _ in $(seq 1 "$ITER"); do request /dev/null "$kind" "$q" >> "$work/times-$i-$kind"; done
    request "$work/body-$i-$kind.json" "$kind" "$q" > /dev/null
  done
  i=$((i + 1))
done < "$work/queries.txt"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- 3. figures, result checks, ratios
python3 - "$work" "$SERIES" <<'EOF'
import json, math, re, sys
work, nseries = sys.argv[1], int(sys.argv[2])
queries = [q for q in open(f"{work}/queries.txt").read().split("\n") if q]
def unq(s): return re.sub(r'\\(.)', r'\1', s)
def quote(q): return '"' + q.replace('\\', '\\\\').replace('"', '\\"') + '"'
tsdb = {}   # (engine, kind, query) -> dict
for line in open(f"{work}/tsdb.out"):
    m = re.match(r'(query-bench|query-check) engine=(\S+) kind=(\w+) query="((?:[^"\\]|\\.)*)"(.*)', line)
    if m:
        d = dict(kv.split("=", 1) for kv in m.group(5).split())
        tsdb[(m.group(1), m.group(2), m.group(3), unq(m.group(4)))] = d
def pct(xs, p):  # nearest rank, as the engine computes it
    s = sorted(xs); r = math.ceil(p / 100 * len(s)); return s[max(0, min(len(s) - 1, r - 1))]
bad = 0
ratios = []
for i, q in enumerate(queries):
    for kind in ("instant", "range"):
        rows = [l.split() for l in open(f"{work}/times-{i}-{kind}") if l.strip()]
        codes = {r[0] for r in rows}
        if codes != {"200"}:
            print(f"CHECK MISMATCH: prometheus answered HTTP {sorted(codes)} for {kind} {q}"); bad += 1; continue
        ms = [float(r[1]) * 1000 for r in rows]
        body = json.load(open(f"{work}/body-{i}-{kind}.json"))
        if body.get("status") != "success":
            print(f"CHECK MISMATCH: prometheus error for {kind} {q}: {body}"); bad += 1; continue
        res = body["data"]["result"]
        rtype = body["data"]["resultType"]
        if rtype == "vector":
            series, points, total = len(res), len(res), sum(float(x["value"][1]) for x in res)
        elif rtype == "matrix":
            series = len(res); points = sum(len(x["values"]) for x in res)
            total = sum(float(v[1]) for x in res for v in x["values"])
        else:
            series, points, total = 1, 1, float(res[1])
        p50, p99 = pct(ms, 50), pct(ms, 99)
        print(f"query-bench engine=prometheus kind={kind} query={quote(q)} p50_ms={p50:.3f} p99_ms={p99:.3f} series={series}")
        print(f"query-check engine=prometheus kind={kind} query={quote(q)} series={series} points={points} sum={total!r}")
        c = tsdb.get(("query-check", "tsdb", kind, q))
        if c is None:
            print(f"CHECK MISMATCH: no query-check line from the engine for {kind} {q}"); bad += 1; continue
        ts, tp, tsum = int(c["series"]), int(c["points"]), float(c["sum"])
        tol = 1e-9 * max(1.0, abs(total))
        if ts != series or tp != points or not (abs(tsum - total) <= tol):
            print(f"!!!!!! CHECK MISMATCH {kind} {quote(q)}: tsdb series={ts} points={tp} sum={tsum!r}"
                  f" vs prometheus series={series} points={points} sum={total!r} !!!!!!"); bad += 1
        else:
            print(f"check ok kind={kind} query={quote(q)} series={series} points={points}"
                  f" sum_rel_diff={abs(tsum - total) / max(1.0, abs(total)):.1e}")
        for eng in ("tsdb", "tsdb+json"):
            b = tsdb.get(("query-bench", eng, kind, q))
            if b:
                ratios.append(f"ratio {eng}/prometheus kind={kind} query={quote(q)}"
                              f" p50={float(b['p50_ms']) / p50:.3f} p99={float(b['p99_ms']) / p99:.3f}")
print("\n".join(ratios))
print("# note: engine=tsdb is an in-process library call on the in-memory head; engine=tsdb+json adds encoding"
      " the result as the API's JSON body; engine=prometheus is curl's time_total for an HTTP request on 127.0.0.1"
      " (connection, evaluation on persisted blocks, JSON encoding, transfer). Ratios < 1 mean the engine is faster.")
if bad:
    print(f"!!!!!! {bad} CHECK MISMATCH(ES): the engine and Prometheus disagree (see above) !!!!!!")
    sys.exit(1)
print(f"all {2 * len(queries)} results agree (series, points, sum of values)")
EOF
