#!/usr/bin/env bash
# Webhook load test: the library's endpoint vs a bare ASP.NET Core endpoint (the ceiling) vs Stripe's documented
# Node.js/Express endpoint, one after the other on loopback, each driven by wrk with the same signed
# checkout.session.completed payloads (3.4 KB, every request a new event id), at 64 connections.
# Prints requests/s, p50/p99 latency and the ratios. Stops everything it started, however it ends.
#
#   benchmarks/webhook-load/run.sh            # or: DURATION=20 WARMUP=10 CONNECTIONS=64 THREADS=2 GC_MODE=workstation run.sh
#   STORE_CAPACITY=20000 benchmarks/webhook-load/run.sh   # the library's in-memory store keeps 20,000 ids, not 200,000
#
# Needs: the .NET 10 SDK, Node.js 20 with npm (installs stripe and express into a scratch folder), and wrk
# (installed with apt-get when missing; run as root or have it installed).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
DURATION="${DURATION:-15}"        # seconds measured per target
WARMUP="${WARMUP:-10}"            # seconds of warm-up per target, not reported: tiered JIT needs ~10 s to settle on 2 cores
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
MAX_RPS="${MAX_RPS:-25000}"       # sizes the pool of distinct events: (WARMUP + DURATION) * MAX_RPS of them
GC_MODE="${GC_MODE:-server}"      # server (ASP.NET Core's default) or workstation, for both .NET targets alike
LIBRARY_PORT=5101 BARE_PORT=5102 NODE_PORT=5103
export WEBHOOK_SECRET="whsec_webhook_load_$(date +%s)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
case "$GC_MODE" in
  server) export DOTNET_gcServer=1 ;;
  workstation) export DOTNET_gcServer=0 ;;
  *) echo "GC_MODE is server or workstation" >&2; exit 2 ;;
esac

scratch="$(mktemp -d /tmp/webhook-load.XXXXXX)"
server_pid=""

cleanup() {
  local status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$scratch"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '== %s\n' "$*" >&2; }

# ---- tools -------------------------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk (apt-get)"
  timeout 300 apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq wrk >/dev/null
fi
for tool in dotnet node npm curl wrk; do
  command -v "$tool" >/dev/null 2>&1 || { echo "run.sh needs $tool" >&2; exit 1; }
done

log "installing stripe and express (npm) into $scratch/node"
mkdir -p "$scratch/node"
cp "$here/node/server.js" "$here/node/generate.js" "$scratch/node/"
(cd "$scratch/node" && timeout 300 npm init -y >/dev/null && timeout 300 npm install --silent --no-audit --no-fund stripe@23.1.0 express@5.3.0 >/dev/null)
stripe_version="$(node -p "require('$scratch/node/node_modules/stripe/package.json').version")"
express_version="$(node -p "require('$scratch/node/node_modules/express/package.json').version")"

log "building the .NET target (Release)"
timeout 600 dotnet build "$here/WebhookLoadTarget/WebhookLoadTarget.csproj" -c Release -o "$scratch/target" -nologo -v quiet >/dev/null

# ---- payloads ----------------------------------------------------------------------------------------------------
pool=$(( (WARMUP + DURATION) * MAX_RPS ))
log "signing $pool distinct events with stripe.webhooks.generateTestHeaderString"
mkdir -p "$scratch/payloads"
(cd "$scratch/node" && timeout 300 node generate.js "$repo/benchmarks/payloads/checkout.session.completed.json" "$pool" "$scratch/payloads")
signed_at=$(date +%s)
warmup_count=$(( WARMUP * MAX_RPS ))
measure_count=$(( DURATION * MAX_RPS ))

# ---- one target --------------------------------------------------------------------------------------------------
wait_ready() {
  local port=$1
  for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:$port/stats" >/dev/null 2>&1 && return 0
    kill -0 "$server_pid" 2>/dev/null || { echo "the server on port $port died" >&2; return 1; }
    sleep 0.2
  done
  echo "the server on port $port did not start within 30 s" >&2
  return 1
}

results=()
run_target() {
  local name=$1 port=$2; shift 2
  log "$name: starting"
  "$@" >"$scratch/$name.log" 2>&1 &
  server_pid=$!
  wait_ready "$port"
  log "$name: warming up for ${WARMUP}s"
  timeout $((WARMUP + 60)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" --timeout 5s -s "$here/load.lua" "http://127.0.0.1:$port" \
    -- "$scratch/payloads" 0 "$warmup_count" "$THREADS" >"$scratch/$name.warmup" 2>&1
  local before
  before=$(curl -fsS "http://127.0.0.1:$port/stats")
  log "$name: measuring for ${DURATION}s at $CONNECTIONS connections"
  timeout $((DURATION + 60)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 5s --latency -s "$here/load.lua" "http://127.0.0.1:$port" \
    -- "$scratch/payloads" "$warmup_count" "$measure_count" "$THREADS" >"$scratch/$name.wrk" 2>&1
  local after line handled
  after=$(curl -fsS "http://127.0.0.1:$port/stats")
  handled=$((after - before))
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  line=$(grep '^RESULT ' "$scratch/$name.wrk") || { cat "$scratch/$name.wrk" >&2; return 1; }
  results+=("$name $line handled=$handled")
}

run_target library "$LIBRARY_PORT" dotnet "$scratch/target/WebhookLoadTarget.dll" library "http://127.0.0.1:$LIBRARY_PORT"
run_target bare "$BARE_PORT" dotnet "$scratch/target/WebhookLoadTarget.dll" bare "http://127.0.0.1:$BARE_PORT"
run_target node "$NODE_PORT" node "$scratch/node/server.js" "$NODE_PORT"

if [ $(( $(date +%s) - signed_at )) -gt 300 ]; then
  echo "warning: the run outlasted the 300 s signature tolerance; late requests were refused (see non2xx)" >&2
fi

# ---- report ------------------------------------------------------------------------------------------------------
field() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<"$1"; }
declare -A rps p99
echo
echo "webhook load: $CONNECTIONS connections, $THREADS wrk threads, ${DURATION}s measured after ${WARMUP}s warm-up, $GC_MODE GC;"
echo "payload $(wc -c <"$repo/benchmarks/payloads/checkout.session.completed.json") bytes, every request a new event; $(nproc) cores, .NET $(dotnet --list-runtimes | sed -n 's/^Microsoft.NETCore.App \([^ ]*\).*/\1/p' | tail -1), Node $(node --version), stripe $stripe_version, express $express_version"
echo
printf '%-10s %12s %10s %10s %10s %8s %16s\n' target requests/s p50_ms p99_ms max_ms non2xx handled/sent
for entry in "${results[@]}"; do
  name=${entry%% *}
  rps[$name]=$(field "$entry" rps)
  p99[$name]=$(field "$entry" p99_us)
  awk -v n="$name" -v r="${rps[$name]}" -v p50="$(field "$entry" p50_us)" -v p99="${p99[$name]}" -v max="$(field "$entry" max_us)" \
    -v bad="$(field "$entry" non2xx)" -v handled="$(field "$entry" handled)/$(field "$entry" requests)" \
    'BEGIN { printf "%-10s %12.0f %10.2f %10.2f %10.2f %8d %16s\n", n, r, p50 / 1000, p99 / 1000, max / 1000, bad, handled }'
done
echo
ratio() { awk -v a="$1" -v b="$2" -v label="$3" -v target="$4" 'BEGIN { printf "%-28s %5.2f   (target %s)\n", label, a / b, target }'; }
ratio "${rps[library]}" "${rps[bare]}" "library / bare throughput:" ">= 0.70"
ratio "${rps[library]}" "${rps[node]}" "library / node throughput:" ">= 2.00"
ratio "${p99[library]}" "${p99[bare]}" "library / bare p99 latency:" "<= 2.00"
