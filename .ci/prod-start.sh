#!/usr/bin/env bash
# Production-only start (issue 10): a clean copy of the built app with `npm ci --omit=dev` runs
# `node dist/main.js` against a real PostgreSQL with the market tables, answers /healthz, /readyz, /state
# and /metrics (with a token), writes nothing inside its own directory, logs no secret, refuses to start
# without DATABASE_URL when RUNTIME_DEMO=off (exit 2), and stops on SIGTERM with exit 0.
#
# Needs: dist/ built (runs `npm run build` if missing), PostgreSQL on 127.0.0.1:5432 with trust auth
# (override the admin URL with PROD_START_PG_ADMIN_URL), the npm cache warm (CI ran `npm ci` before).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ADMIN_URL=${PROD_START_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB_NAME="mr_prod_start_$$"
PASSWORD="ProdStartPw-$$-x9"
TOKEN="prod-start-token-$$-0123456789"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mr-prod-start.XXXXXX")
APP="$WORK/app"
LOG="$WORK/sidecar.log"
PID=""

say() { printf '[prod-start] %s\n' "$*"; }
fail() { say "FAIL: $*"; if [ -f "$LOG" ]; then say "--- sidecar log (last 40 lines)"; tail -n 40 "$LOG" | sed "s/$PASSWORD/<PASSWORD>/g; s/$TOKEN/<TOKEN>/g"; fi; exit 1; }
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -KILL "$PID" 2>/dev/null || true; fi
  if [ -d "$APP/node_modules/postgres" ]; then (cd "$APP" && node prod-db.mjs drop "$ADMIN_URL" "$DB_NAME" >/dev/null 2>&1) || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

npm run build >/dev/null || fail "npm run build"
for f in dist/main.js dist/workers/store.js dist/workers/http.js dist/workers/collector.js dist/src/http/dashboard/dashboard.html; do
  [ -f "$f" ] || fail "$f missing after the build"
done

say "clean copy in $APP: package files and dist/ only, npm ci --omit=dev"
mkdir -p "$APP"
cp package.json package-lock.json "$APP/"
cp -R dist "$APP/dist"
cp .ci/prod-db.mjs "$APP/"
# as the image installs: --omit=optional also leaves out typescript, which npm would otherwise keep as
# valibot's optional peer (31 MB), and piscina's unused @napi-rs/nice
(cd "$APP" && npm ci --omit=dev --omit=optional --no-audit --no-fund --ignore-scripts --loglevel=error) || fail "npm ci --omit=dev"
for dev in vitest autocannon playwright-core fast-check tsx esbuild @esbuild @electric-sql/pglite @electric-sql/pglite-socket typescript; do
  [ ! -e "$APP/node_modules/$dev" ] || fail "dev dependency $dev installed in the production copy"
done
say "production node_modules: $(du -sm "$APP/node_modules" | cut -f1) MB"

say "scratch database $DB_NAME"
(cd "$APP" && node prod-db.mjs create "$ADMIN_URL" "$DB_NAME" "$APP/dist/src/sources/market-ddl.js") || fail "could not create the scratch database"
DB_URL=$(node -e 'const u=new URL(process.argv[1]); u.password=process.argv[2]; u.pathname="/"+process.argv[3]; console.log(u.toString())' "$ADMIN_URL" "$PASSWORD" "$DB_NAME")

say "RUNTIME_DEMO=off without DATABASE_URL exits 2 with a clear message"
set +e
(cd "$APP" && env -u DATABASE_URL RUNTIME_DEMO=off node dist/main.js >"$WORK/nodb.out" 2>"$WORK/nodb.err")
code=$?
set -e
[ "$code" = 2 ] || fail "expected exit 2 without DATABASE_URL, got $code"
grep -q 'DATABASE_URL' "$WORK/nodb.err" || fail "the configuration error does not name DATABASE_URL"

say "RUNTIME_DEMO=auto without DATABASE_URL (the demo is not installed) exits 2 with a clear message"
set +e
(cd "$APP" && env -u DATABASE_URL RUNTIME_DEMO=auto node dist/main.js >"$WORK/auto.out" 2>"$WORK/auto.err")
code=$?
set -e
[ "$code" = 2 ] || fail "expected exit 2 for the demo in a production install, got $code: $(head -c 400 "$WORK/auto.err")"
grep -q 'DATABASE_URL' "$WORK/auto.err" || fail "the message does not name DATABASE_URL: $(head -c 400 "$WORK/auto.err")"
if grep -qE 'Cannot find|ERR_MODULE_NOT_FOUND' "$WORK/auto.err" "$WORK/auto.out"; then fail "a 'module not found' instead of a configuration error"; fi

# as in the image, which leaves the demo's code out: a start with RUNTIME_DEMO=off never loads it
rm -rf "$APP/dist/src/demo"

say "start node dist/main.js"
touch "$WORK/marker"
sleep 1
(cd "$APP" && exec env RUNTIME_DEMO=off DATABASE_URL="$DB_URL" RUNTIME_API_TOKEN="$TOKEN" PORT=0 HOST=127.0.0.1 \
  CHART_REPO_SERVICE_HOST=127.0.0.1:1 CHART_REPO_TIMEOUT_MS=500 COLLECT_INTERVAL_MS=1000 LOG_LEVEL=debug \
  node dist/main.js >"$LOG" 2>&1) &
PID=$!

PORT=""
for _ in $(seq 1 150); do
  PORT=$(grep -o 'listening: API http://[^/]*:[0-9]*' "$LOG" 2>/dev/null | grep -o '[0-9]*$' | head -n 1 || true)
  [ -n "$PORT" ] && break
  kill -0 "$PID" 2>/dev/null || fail "the sidecar exited during start"
  sleep 0.2
done
[ -n "$PORT" ] || fail "no 'listening' line within 30 s"
BASE="http://127.0.0.1:$PORT"
say "listening on $BASE"

get() { node -e '
  const [url, token] = process.argv.slice(1);
  fetch(url, token ? { headers: { Authorization: `Bearer ${token}` } } : {})
    .then(async (r) => { process.stdout.write(r.status + "\n" + await r.text()); })
    .catch((e) => { process.stdout.write("000\n" + e.message); });' "$@"; }
status_of() { get "$@" | head -n 1; }

[ "$(status_of "$BASE/healthz")" = 200 ] || fail "/healthz"
ready=""
for _ in $(seq 1 60); do
  if [ "$(status_of "$BASE/readyz")" = 200 ]; then ready=yes; break; fi
  sleep 0.5
done
[ -n "$ready" ] || fail "/readyz not 200 within 30 s"
say "/readyz 200"

[ "$(status_of "$BASE/api/v2/runtime/state")" = 401 ] || fail "/state without the token should be 401"
STATE=$(get "$BASE/api/v2/runtime/state" "$TOKEN")
[ "$(printf '%s' "$STATE" | head -n 1)" = 200 ] || fail "/state with the token: $(printf '%s' "$STATE" | head -c 300)"
printf '%s' "$STATE" | tail -n +2 | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const b = JSON.parse(s);
    if (b.success !== true) throw new Error("success is not true");
    const t = b.data.tasks;
    if (!t["ci-task-1"] || t["ci-task-1"].status !== "running" || t["ci-task-1"].type !== "install") throw new Error("ci-task-1 missing or wrong");
    if (!t["ci-task-2"] || t["ci-task-2"].type !== "upgrade") throw new Error("ci-task-2 missing or wrong");
    if (!b.data.sources.tasks.ok) throw new Error("tasks source not ok: " + b.data.sources.tasks.last_error);
  });' || fail "/state body"
printf '%s' "$STATE" | grep -qF "$PASSWORD" && fail "the snapshot contains the database password"
say "/state 200 with the market's tasks"

METRICS=$(get "$BASE/metrics" "$TOKEN")
[ "$(printf '%s' "$METRICS" | head -n 1)" = 200 ] || fail "/metrics"
printf '%s' "$METRICS" | grep -q '^market_runtime_tasks_by_status{status="running"} 1$' || fail "/metrics lacks the running task"
printf '%s' "$METRICS" | grep -q '^market_runtime_http_requests_total{' || fail "/metrics lacks HTTP metrics"
say "/metrics 200"

PAGE=$(node -e '
  fetch(process.argv[1], { headers: { Authorization: `Bearer ${process.argv[2]}` } })
    .then(async (r) => console.log(r.status, r.headers.get("content-type"), /script-src .self./.test(r.headers.get("content-security-policy") ?? "")))' \
  "$BASE/api/v2/runtime/dashboard" "$TOKEN")
[ "$PAGE" = "200 text/html; charset=utf-8 true" ] || fail "/dashboard from the build: $PAGE"
say "/dashboard 200 with its CSP"

say "SIGTERM"
kill -TERM "$PID"
code=""
for _ in $(seq 1 150); do
  if ! kill -0 "$PID" 2>/dev/null; then set +e; wait "$PID"; code=$?; set -e; break; fi
  sleep 0.1
done
[ -n "$code" ] || fail "still running 15 s after SIGTERM"
PID=""
[ "$code" = 0 ] || fail "exit code $code after SIGTERM (want 0)"
grep -q '"msg":"stopped"' "$LOG" || fail "no 'stopped' line"

grep -qF "$PASSWORD" "$LOG" && fail "a log line contains the database password"
grep -qF "$TOKEN" "$LOG" && fail "a log line contains the API token"
written=$(find "$APP" -newer "$WORK/marker" -print | head -n 5)
[ -z "$written" ] || fail "the sidecar wrote inside its directory (read-only root FS): $written"
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
  for (const l of lines) { const o = JSON.parse(l); if (typeof o.level !== "number" || !o.time || !o.msg) throw new Error("not a pino line: " + l.slice(0, 200)); }
' "$LOG" || fail "a log line is not structured JSON"
say "OK: production-only start, probes, /state, /metrics, SIGTERM exit 0, no secret in logs"
