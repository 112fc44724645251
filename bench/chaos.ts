/**
 * Chaos run (issue 18): the BUILT sidecar (dist/main.js) on a live demo market (PostgreSQL, Chart Repo
 * simulator, workload), under load, with a random thread killed every 3-10 s through the chaos control
 * (RUNTIME_CHAOS_PORT, loopback only, off unless set).
 *
 *   npm run chaos -- --minutes 10
 *   npm run chaos -- --seconds 60 --small        # the CI step
 *   options: --minutes N | --seconds N   --small (a small market)   --no-build (dist/ is already built)
 *            --database-url URL (a real PostgreSQL for the demo market; default: its embedded one)
 *            --json FILE (write the figures)
 *
 * Load: unfiltered and filtered /state, partial queries (one app, one task, a user's apps and tasks, tasks of
 * an app), conditional pollers (If-None-Match), and 50 change-stream clients that reconnect with
 * Last-Event-ID. Prints kills survived, requests, and the violations, which must be 0 (exit 1 otherwise):
 * - a 200 /state whose summary disagrees with its own entities;
 * - a 200 unfiltered /state holding under half the apps or tasks of the last one, seen less than 10 s
 *   before (the demo workload installs and removes a few apps a pass, a half-built store lacks whole
 *   sources): an answer from a half-built store;
 * - one ETag seen with two bodies that say different things (the tag is weak and names content: the same
 *   content seen at other times — a restarted store's `version`, `timestamp`, last_update — keeps its tag);
 * - a 5xx other than a documented 503 (docs/api.md, above "While the store rebuilds"): `Retry-After` and the
 *   envelope's message one of not collected yet, rebuilding after a store restart, store unavailable (the
 *   stream's "too many stream clients" and its snapshots-busy answer are documented too, but 50 clients of
 *   this market, whose snapshots are far from 64 MiB together, must never see them);
 * - a request with no answer within 15 s (a timeout);
 * - /readyz not 200 again within 30 s of a kill. Recovery is printed per thread kind: the time from the kill
 *   to /readyz 200 again, counted only when /readyz was seen down first (a collector or the compression
 *   thread dying does not take readiness away; their kills print "never down").
 * - a collector that does not run again within 30 s of a kill (any thread's): every source's last_attempt in
 *   …/sources must pass the kill's time (a collector wedged "in flight" keeps /readyz 200 and the view frozen);
 * - after the run, a source whose last success is not newer than a read of the database within 60 s, or an
 *   installed app (state running, stopped or suspended), an active task or one of the 20 most recent tasks in
 *   the database (present at two reads around the view's read) missing from the view.
 * Connection errors while the HTTP thread is down are expected and printed, not violations.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { freePort, sleep } from './lib/net.ts';
import { API } from './lib/sidecar.ts';
import { contentOf } from '../test/helpers/body-content.ts';
import { NOT_READY, REBUILDING, STORE_UNAVAILABLE } from '../src/http/rebuilding.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string' },
    seconds: { type: 'string' },
    small: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    'database-url': { type: 'string' },
    json: { type: 'string' },
  },
});

const SECONDS = args.seconds !== undefined ? Number(args.seconds) : Number(args.minutes ?? '10') * 60;
if (!Number.isFinite(SECONDS) || SECONDS < 10) {
  console.error('chaos: --seconds must be at least 10 (or --minutes N)');
  process.exit(2);
}
const READY_BOUND_MS = 30_000;
const STREAM_CLIENTS = 50;
const LOOPS = 6;
const REQUEST_TIMEOUT_MS = 15_000;
const root = new URL('..', import.meta.url);
const rand = (lo: number, hi: number) => lo + Math.random() * (hi - lo);
const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;


const children: ChildProcess[] = [];
const tail: string[] = [];
function bail(msg: string): never {
  console.error(`chaos: ${msg}`);
  if (tail.length) console.error(`last sidecar output:\n${tail.join('\n')}`);
  for (const c of children) c.kill('SIGKILL');
  process.exit(1);
}

if (!args['no-build']) {
  console.log('chaos: npm run build');
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}

// ---- the demo market, in a process of its own --------------------------------------------------------
const demoArgs = ['--import', 'tsx', 'src/demo/cli.ts', ...(args.small ? ['--users', '4', '--apps-per-user', '4'] : [])];
if (args['database-url']) demoArgs.push('--database-url', args['database-url'], '--reset');
const demo = spawn(process.execPath, demoArgs, { cwd: root, env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit'] });
children.push(demo);
const market = await new Promise<{ db: string; chart: string }>((resolve, reject) => {
  let buf = '';
  const timer = setTimeout(() => reject(new Error('the demo market did not start within 120 s')), 120_000);
  demo.once('exit', (code) => reject(new Error(`the demo market exited with ${code}`)));
  demo.stdout!.on('data', (b: Buffer) => {
    buf += b.toString();
    const m = /DATABASE_URL=(\S+) CHART_REPO_SERVICE_HOST=([^\s"]+)/.exec(buf);
    if (m) { clearTimeout(timer); resolve({ db: m[1]!, chart: m[2]! }); }
  });
}).catch((e: Error) => bail(e.message));
demo.stdout!.resume();
// the printed URL of an external database is redacted: use the one given
const databaseUrl = args['database-url'] ?? market.db;

// ---- the built sidecar --------------------------------------------------------------------------------
// (before the sidecar starts: its output is checked from its first line)
const violations: string[] = [];
function violation(msg: string): void {
  if (violations.length < 200) violations.push(msg);
  console.error(`VIOLATION: ${msg}`);
}
const port = await freePort();
const chaosPort = await freePort();
const base = `http://127.0.0.1:${port}`;
const control = `http://127.0.0.1:${chaosPort}`;
const env: NodeJS.ProcessEnv = {
  ...process.env, PORT: String(port), HOST: '127.0.0.1', RUNTIME_DEMO: 'off', DATABASE_URL: databaseUrl,
  CHART_REPO_SERVICE_HOST: market.chart, COLLECT_INTERVAL_MS: '1000', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  RUNTIME_CHAOS_PORT: String(chaosPort), MALLOC_ARENA_MAX: '2',
};
delete env.RUNTIME_API_TOKEN;
const sidecar = spawn(process.execPath, ['dist/main.js'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
children.push(sidecar);
/**
 * Each stream's whole lines: kept for the tail printed on failure, and each must be a line of the JSON log (issue
 * 18: nothing else is ever written to stdout or stderr, faults and restarts included); any other is a violation.
 */
const lines = () => {
  let carry = '';
  return (b: Buffer) => {
    const parts = (carry + b.toString()).split('\n');
    carry = parts.pop()!;
    for (const l of parts) {
      if (!l) continue;
      tail.push(l.slice(0, 400));
      if (!isJsonObjectLine(l)) violation(`a line outside the JSON log: ${l.slice(0, 200)}`);
    }
    tail.splice(0, tail.length - 30);
  };
};
function isJsonObjectLine(l: string): boolean {
  try {
    const x: unknown = JSON.parse(l);
    return typeof x === 'object' && x !== null && !Array.isArray(x);
  } catch {
    return false;
  }
}
sidecar.stdout!.on('data', lines());
sidecar.stderr!.on('data', lines());
let exited: number | null | undefined;
sidecar.once('exit', (code) => { exited = code; });

async function readyz(timeoutMs = 2000): Promise<number> {
  try {
    return (await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(timeoutMs) })).status;
  } catch {
    return 0;
  }
}
{
  const end = Date.now() + 120_000;
  while ((await readyz()) !== 200) {
    if (exited !== undefined) bail(`the sidecar exited with ${exited} before it was ready`);
    if (Date.now() > end) bail('the sidecar was not ready within 120 s');
    await sleep(250);
  }
}

// ---- what to ask for ----------------------------------------------------------------------------------
interface Snapshot {
  app_states: Record<string, { user_id: string; source_id: string; app_name: string; health?: string; stuck?: boolean }>;
  tasks: Record<string, { task_id: string; status: string; stuck?: boolean; app_name?: string }>;
  components: Record<string, { healthy: boolean; status: string }>;
  summary: Record<string, number>;
}
// ready means every collector finished a first pass, not that it succeeded (a loaded machine can fail the first
// ones): wait, within the same bound, for the view to hold the market's apps
let first: Snapshot;
{
  const end = Date.now() + 120_000;
  for (;;) {
    first = ((await (await fetch(`${base}${API}/state`)).json()) as { data: Snapshot }).data;
    if (Object.keys(first.app_states).length > 0) break;
    if (Date.now() > end) bail('the demo market has no apps in view after 120 s');
    await sleep(500);
  }
}
const apps = Object.values(first.app_states);
const users = [...new Set(apps.map((a) => a.user_id))];
const appNames = [...new Set(apps.map((a) => a.app_name))];
const taskIds = Object.keys(first.tasks);
const enc = encodeURIComponent;

const stateQueries = (): string => pick([
  `${API}/state`,
  `${API}/state?user_id=${enc(pick(users))}`,
  `${API}/state?user_id=${enc(pick(users))}&task_status=running`,
  `${API}/state?app_name=${enc(pick(appNames))}`,
  `${API}/state?stuck=false&task_type=install`,
  `/app-store${API}/state?source_id=${enc(pick(apps).source_id)}`,
]);
const partialQueries = (): string => {
  const a = pick(apps);
  return pick([
    `${API}/apps/${[a.user_id, a.source_id, a.app_name].map(enc).join('/')}`,
    `${API}/users/${enc(a.user_id)}/apps`,
    `${API}/users/${enc(a.user_id)}/tasks`,
    `${API}/tasks?app_name=${enc(a.app_name)}`,
    ...(taskIds.length ? [`${API}/tasks/${enc(pick(taskIds))}`] : []),
  ]);
};

// ---- checks -------------------------------------------------------------------------------------------
const stats = {
  requests: 0, ok: 0, notModified: 0, notFound: 0, documented503: 0, connectionErrors: 0, timeouts: 0,
  otherStatus: {} as Record<string, number>, streamEvents: 0, streamConnects: 0, statesChecked: 0,
  /** the documented 503s by message */
  by503: {} as Record<string, number>,
};
/** the 503s docs/api.md lists (each with Retry-After): their envelope's message, and how the report names them */
const DOCUMENTED_503 = new Map([[NOT_READY, 'not ready'], [REBUILDING, 'rebuilding'], [STORE_UNAVAILABLE, 'store unavailable']]);

/** A 503 is documented when it says which of the documented ones it is, and when to retry: else a violation. */
function check503(path: string, text: string, retryAfter: string | null): void {
  let message: unknown;
  try {
    message = (JSON.parse(text) as { message?: unknown }).message;
  } catch { /* not JSON: undocumented */ }
  const name = typeof message === 'string' ? DOCUMENTED_503.get(message) : undefined;
  if (name && retryAfter) {
    stats.documented503 += 1;
    stats.by503[name] = (stats.by503[name] ?? 0) + 1;
  } else {
    stats.otherStatus['503'] = (stats.otherStatus['503'] ?? 0) + 1;
    violation(`undocumented 503 on ${path} (Retry-After ${retryAfter ?? 'absent'}): ${text.slice(0, 200)}`);
  }
}
const bodyOfEtag = new Map<string, { hash: string; path: string }>();
/** the last 200 unfiltered /state: how many apps and tasks it held, and when */
let lastWhole: { apps: number; tasks: number; at: number } | null = null;

/** An answer from a half-built store holds far fewer apps or tasks than the one just before it. */
function shrinkProblem(path: string, d: Snapshot): void {
  if (path.includes('?')) return;
  const now = { apps: Object.keys(d.app_states).length, tasks: Object.keys(d.tasks).length, at: Date.now() };
  const prev = lastWhole;
  lastWhole = now;
  if (!prev || now.at - prev.at > 10_000) return;
  for (const k of ['apps', 'tasks'] as const) {
    if (prev[k] >= 4 && now[k] < 0.5 * prev[k]) violation(`200 ${path}: ${now[k]} ${k}, ${prev[k]} in the answer ${now.at - prev.at} ms before (a half-built store?)`);
  }
}

/** The summary recomputed from the entities of the same body. */
function summaryProblem(d: Snapshot): string | null {
  const s = { total_apps: 0, healthy_apps: 0, unhealthy_apps: 0, stuck_apps: 0, total_tasks: 0, stuck_tasks: 0,
    pending_tasks: 0, running_tasks: 0, completed_tasks: 0, failed_tasks: 0, active_components: 0 };
  for (const a of Object.values(d.app_states)) {
    s.total_apps += 1;
    if (a.stuck) s.stuck_apps += 1;
    if (a.health === 'healthy') s.healthy_apps += 1;
    else if (a.health === 'unhealthy') s.unhealthy_apps += 1;
  }
  for (const t of Object.values(d.tasks)) {
    s.total_tasks += 1;
    if (t.stuck) s.stuck_tasks += 1;
    const k = `${t.status}_tasks` as keyof typeof s;
    if (k in s && k !== 'total_tasks' && k !== 'stuck_tasks') s[k] += 1;
  }
  for (const c of Object.values(d.components)) if (c.healthy && c.status === 'running') s.active_components += 1;
  const off = Object.entries(s).filter(([k, v]) => d.summary[k] !== v);
  return off.length === 0 ? null : off.map(([k, v]) => `${k}: summary ${d.summary[k]}, entities ${v}`).join('; ');
}

async function ask(path: string, headers: Record<string, string> = {}): Promise<{ status: number; etag: string | null } | null> {
  stats.requests += 1;
  let res: Response;
  let text: string;
  try {
    res = await fetch(base + path, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    text = await res.text();
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') {
      stats.timeouts += 1;
      violation(`no answer to ${path} within ${REQUEST_TIMEOUT_MS / 1000} s`);
    } else stats.connectionErrors += 1;
    return null;
  }
  const { status } = res;
  const etag = res.headers.get('etag');
  if (status === 200) {
    stats.ok += 1;
    if (etag) {
      const hash = createHash('sha256').update(contentOf(text)).digest('hex');
      const seen = bodyOfEtag.get(etag);
      if (!seen) bodyOfEtag.set(etag, { hash, path });
      else if (seen.hash !== hash) violation(`ETag ${etag} named two different bodies (${seen.path} and ${path})`);
    }
    if (path.includes('/state')) {
      stats.statesChecked += 1;
      const data = (JSON.parse(text) as { data: Snapshot }).data;
      const problem = summaryProblem(data);
      if (problem) violation(`200 ${path}: summary disagrees with its entities: ${problem}`);
      shrinkProblem(path, data);
    }
  } else if (status === 304) stats.notModified += 1;
  else if (status === 404) stats.notFound += 1;
  else if (status === 503) check503(path, text, res.headers.get('retry-after'));
  else {
    stats.otherStatus[status] = (stats.otherStatus[status] ?? 0) + 1;
    if (status >= 500) violation(`${status} on ${path}: ${text.slice(0, 200)}`);
  }
  return { status, etag };
}

// ---- load ---------------------------------------------------------------------------------------------
let running = true;
const t0 = Date.now();
const endAt = t0 + SECONDS * 1000;

async function loop(kind: 'state' | 'partial' | 'poller'): Promise<void> {
  const etags = new Map<string, string>();
  while (running && Date.now() < endAt) {
    if (kind === 'poller') {
      const path = pick([`${API}/state`, `${API}/state?user_id=${enc(users[0]!)}`]);
      const tag = etags.get(path);
      const r = await ask(path, tag ? { 'if-none-match': tag } : {});
      if (r?.status === 200 && r.etag) etags.set(path, r.etag);
      await sleep(200);
    } else {
      await ask(kind === 'state' ? stateQueries() : partialQueries());
    }
    if (stats.connectionErrors > 0) await sleep(20); // no hot loop while the HTTP thread is down
  }
}

async function streamClient(i: number): Promise<void> {
  const path = i % 2 === 0 ? `${API}/events` : `${API}/events?user_id=${enc(users[i % users.length]!)}`;
  let lastId = '';
  while (running && Date.now() < endAt) {
    const ctl = new AbortController();
    const stop = setTimeout(() => ctl.abort(), Math.max(0, endAt - Date.now()));
    try {
      const res = await fetch(base + path, { headers: lastId ? { 'last-event-id': lastId } : {}, signal: ctl.signal });
      stats.streamConnects += 1;
      if (res.status >= 500 && res.status !== 503) violation(`${res.status} on ${path}`);
      if (res.status !== 200 || !res.body) {
        if (res.status === 503) check503(path, await res.text(), res.headers.get('retry-after'));
        else await res.body?.cancel();
        await sleep(1000);
        continue;
      }
      const decoder = new TextDecoder();
      let buf = '';
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk as Uint8Array, { stream: true });
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const id = /^id: (.+)$/m.exec(frame)?.[1];
          if (id) lastId = id;
          if (/^event: /m.test(frame)) stats.streamEvents += 1;
        }
      }
    } catch {
      // the HTTP thread was killed, or the run ended: reconnect (or stop)
    } finally {
      clearTimeout(stop);
    }
    await sleep(rand(200, 1000));
  }
}

// ---- kills --------------------------------------------------------------------------------------------
/** per thread kind: ms from the kill to /readyz 200 again, for kills after which /readyz was seen down */
const recoveries: Record<string, number[]> = {};
const neverDown: Record<string, number> = {};
const killed: Record<string, number> = {};
let threads: string[] = [];
try {
  threads = ((await (await fetch(`${control}/threads`)).json()) as { threads: string[] }).threads;
} catch (err) {
  bail(`chaos control not reachable on ${control}: ${(err as Error).message}`);
}
/** a thread's kind: collector threads are named per source (collector_tasks …) */
const kindOf = (thread: string) => (thread.startsWith('collector_') ? 'collector' : thread);
const DOWN_WATCH_MS = 2000;

type SourcesAnswer = { data: { sources: Record<string, { last_attempt?: string | null; last_success?: string | null }> } };
async function sourcesNow(): Promise<SourcesAnswer['data']['sources'] | null> {
  try {
    return ((await (await fetch(`${base}${API}/sources`, { signal: AbortSignal.timeout(5000) })).json()) as SourcesAnswer).data.sources;
  } catch {
    return null;
  }
}

/** The sources whose `field` is not newer than `since` (all of them while …/sources does not answer). */
async function notPast(field: 'last_attempt' | 'last_success', since: number): Promise<string[] | null> {
  const fr = await sourcesNow();
  if (!fr) return null;
  return Object.entries(fr).filter(([, s]) => !(Date.parse(s[field] ?? '') > since)).map(([name]) => name);
}

/** ms from a kill until every collector had run again, per kill (printed: median and worst) */
const collectionResumed: number[] = [];
const resumeChecks: Promise<void>[] = [];
/** Every collector runs again within the bound after a kill: none is left waiting on a dead thread. */
async function collectionResumes(thread: string, at: number): Promise<void> {
  let behind: string[] | null = null;
  while (Date.now() - at <= READY_BOUND_MS) {
    behind = await notPast('last_attempt', at);
    if (behind !== null && behind.length === 0) {
      collectionResumed.push(Date.now() - at);
      return;
    }
    await sleep(500);
  }
  violation(`no run of ${behind === null ? 'any source (…/sources did not answer)' : behind.join(', ')} within ${READY_BOUND_MS / 1000} s of killing ${thread}`);
}

/**
 * /readyz watched all along, not only in the 2 s after a kill: a stretch not ready longer than the bound is a
 * violation whenever it starts (a kill whose effect comes late, or none at all). Each stretch is judged once.
 */
let longestNotReadyMs = 0;
async function readinessWatch(): Promise<void> {
  let downSince: number | null = null;
  let judged = false;
  while (running && Date.now() < endAt) {
    const ok = (await readyz(1000)) === 200;
    const now = Date.now();
    if (ok) {
      downSince = null;
      judged = false;
    } else {
      downSince ??= now;
      longestNotReadyMs = Math.max(longestNotReadyMs, now - downSince);
      if (!judged && now - downSince > READY_BOUND_MS) {
        judged = true;
        violation(`/readyz not 200 for over ${READY_BOUND_MS / 1000} s (since ${new Date(downSince).toISOString()})`);
      }
    }
    await sleep(250);
  }
}

let round: string[] = [];
async function killer(): Promise<void> {
  while (running && Date.now() < endAt - 3000) {
    await sleep(rand(3000, 10_000));
    if (!running || Date.now() >= endAt - 3000) break;
    // random order, every thread once per round: a short run still kills each kind
    if (round.length === 0) round = [...threads].sort(() => Math.random() - 0.5);
    const thread = round.pop()!;
    const kind = kindOf(thread);
    // the compression thread runs only while answers are compressed (it ends when idle): make it run first
    if (kind === 'compress') await fetch(`${base}${API}/state`, { headers: { 'accept-encoding': 'br' }, signal: AbortSignal.timeout(15_000) }).then((r) => r.arrayBuffer(), () => undefined);
    const at = Date.now();
    try {
      const res = await fetch(`${control}/kill?thread=${enc(thread)}`, { method: 'POST', signal: AbortSignal.timeout(5000) });
      // 409: none ran (the thread is down waiting for its restart; a compression thread: the HTTP thread was just
      // replaced, or /state was not served): no kill, not counted
      if (res.status === 409) continue;
      if (res.status !== 200) bail(`chaos control refused to kill ${thread}: ${res.status} ${await res.text()}`);
    } catch (err) {
      bail(`chaos control failed: ${(err as Error).message}`);
    }
    killed[thread] = (killed[thread] ?? 0) + 1;
    // a kill near the end of the run is still judged (the run waits for its check)
    resumeChecks.push(collectionResumes(thread, at));
    // the recovery clock runs from the kill, but only a kill that took readiness away has a recovery
    let down = false;
    while (!down && Date.now() - at < DOWN_WATCH_MS) {
      if ((await readyz(500)) !== 200) down = true;
      else await sleep(25);
    }
    if (!down) {
      neverDown[kind] = (neverDown[kind] ?? 0) + 1;
      continue;
    }
    for (;;) {
      if ((await readyz()) === 200) {
        (recoveries[kind] ??= []).push(Date.now() - at);
        break;
      }
      if (Date.now() - at > READY_BOUND_MS) {
        violation(`/readyz not 200 within ${READY_BOUND_MS / 1000} s of killing ${thread}`);
        (recoveries[kind] ??= []).push(Date.now() - at);
        // keep waiting (bounded) so the next kill is judged on its own
        const until = Date.now() + 60_000;
        while ((await readyz()) !== 200 && Date.now() < until) await sleep(500);
        break;
      }
      await sleep(100);
    }
    if (exited !== undefined) bail(`the sidecar exited with ${exited}`);
  }
}
const killsSurvived = () => Object.values(killed).reduce((a, b) => a + b, 0);

const progress = setInterval(() => {
  const s = Math.round((Date.now() - t0) / 1000);
  console.log(`chaos: ${s}s kills ${killsSurvived()} requests ${stats.requests} violations ${violations.length}`);
}, 30_000);

console.log(`chaos: ${SECONDS} s on ${apps.length} apps / ${taskIds.length} tasks; killing one of ${threads.join(', ')} every 3-10 s`);
await Promise.all([
  killer(),
  readinessWatch(),
  ...Array.from({ length: LOOPS }, (_, i) => loop(i % 3 === 0 ? 'state' : i % 3 === 1 ? 'partial' : 'poller')),
  ...Array.from({ length: STREAM_CLIENTS }, (_, i) => streamClient(i)),
]);
running = false;
clearInterval(progress);
await Promise.all(resumeChecks);
if (exited !== undefined) bail(`the sidecar exited with ${exited}`);

// ---- after the run: the database against the view -------------------------------------------------------
{
  const end = Date.now() + READY_BOUND_MS;
  while ((await readyz()) !== 200 && Date.now() < end) await sleep(250);
}
const sql = postgres(databaseUrl, { max: 1, prepare: false, onnotice: () => {}, fetch_types: false });
type DbView = { apps: Set<string>; active: Set<string>; recent: Set<string> };
async function readDb(): Promise<DbView> {
  const installed = await sql<{ k: string }[]>`
    SELECT ua.user_id || '/' || ua.source_id || '/' || ua.app_name AS k
    FROM user_applications ua JOIN user_application_states s ON s.user_application_id = ua.id
    WHERE s.state IN ('running', 'stopped', 'suspended')`;
  const active = await sql<{ task_id: string }[]>`SELECT task_id FROM task_records WHERE status IN (1, 2)`;
  const recent = await sql<{ task_id: string }[]>`SELECT task_id FROM task_records WHERE status NOT IN (1, 2)
    ORDER BY COALESCE(completed_at, started_at, created_at) DESC, id DESC LIMIT 20`;
  return { apps: new Set(installed.map((r) => r.k)), active: new Set(active.map((r) => r.task_id)), recent: new Set(recent.map((r) => r.task_id)) };
}
const before = await readDb();
const readAt = Date.now();
// the view must have collected after the first read: every source's last success newer than it (freshness is
// unversioned, at …/sources; the view read after it is at least as new)
let view: Snapshot | null = null;
let stale: string[] | null = null;
{
  const end = Date.now() + 60_000;
  for (;;) {
    stale = await notPast('last_success', readAt + 500);
    if (stale !== null && stale.length === 0) {
      try {
        view = ((await (await fetch(`${base}${API}/state`)).json()) as { data: Snapshot }).data;
        break;
      } catch { /* retried */ }
    }
    if (Date.now() > end) break;
    await sleep(500);
  }
}
const after = await readDb();
await sql.end({ timeout: 1 });
const missing: string[] = [];
if (!view) violation(`after the run: ${stale === null ? 'the view' : stale.join(', ')} did not collect again within 60 s`);
else {
  const viewApps = new Set(Object.values(view.app_states).map((a) => `${a.user_id}/${a.source_id}/${a.app_name}`));
  for (const k of before.apps) if (after.apps.has(k) && !viewApps.has(k)) missing.push(`installed app ${k}`);
  for (const id of before.active) if (after.active.has(id) && !view.tasks[id]) missing.push(`active task ${id}`);
  for (const id of before.recent) if (after.recent.has(id) && !view.tasks[id]) missing.push(`recent task ${id}`);
  for (const m of missing) violation(`after the run: ${m} is in the database but not in the view`);
}

// ---- report -------------------------------------------------------------------------------------------
sidecar.kill('SIGTERM');
const stopped = await Promise.race([new Promise((r) => sidecar.once('exit', r)), sleep(15_000).then(() => 'timeout')]);
if (stopped === 'timeout') sidecar.kill('SIGKILL');
demo.kill('SIGTERM');

const percentile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;
};
const kinds = [...new Set(threads.map(kindOf))].sort();
const recovery = Object.fromEntries(kinds.map((k) => [k, {
  kills: Object.entries(killed).filter(([t]) => kindOf(t) === k).reduce((a, [, n]) => a + n, 0),
  never_down: neverDown[k] ?? 0,
  median_ms: percentile(recoveries[k] ?? [], 0.5),
  worst_ms: percentile(recoveries[k] ?? [], 1),
}]));
const figures = {
  seconds: SECONDS, small: args.small, kills_survived: killsSurvived(), killed,
  readyz_recovery: recovery,
  collection_resumed: { kills: collectionResumed.length, median_ms: percentile(collectionResumed, 0.5), worst_ms: percentile(collectionResumed, 1) },
  ...stats, violations: violations.length,
  db_checked: { installed_apps: before.apps.size, active_tasks: before.active.size, recent_tasks: before.recent.size },
};
const secs = (ms: number) => (Number.isNaN(ms) ? '-' : `${(ms / 1000).toFixed(1)} s`);
console.log(`\nchaos: ${SECONDS} s, kills survived ${killsSurvived()} (${Object.entries(killed).map(([k, n]) => `${k} ${n}`).join(', ')})`);
console.log(`  /readyz back after a kill (from the kill, kills that took readiness away; bound ${READY_BOUND_MS / 1000} s):`);
for (const [k, r] of Object.entries(recovery)) {
  console.log(`    ${k.padEnd(12)} kills ${String(r.kills).padStart(3)}  never down ${String(r.never_down).padStart(3)}  median ${secs(r.median_ms).padStart(6)}  worst ${secs(r.worst_ms).padStart(6)}`);
}
console.log(`  /readyz watched all along: longest stretch not ready ${secs(longestNotReadyMs)} (bound ${READY_BOUND_MS / 1000} s)`);
console.log(`  every collector ran again after a kill (bound ${READY_BOUND_MS / 1000} s): ${collectionResumed.length} of ${killsSurvived()} kills, `
  + `median ${secs(percentile(collectionResumed, 0.5))}, worst ${secs(percentile(collectionResumed, 1))}`);
console.log(`  requests ${stats.requests}: 200 ${stats.ok}, 304 ${stats.notModified}, 404 ${stats.notFound}, documented 503 ${stats.documented503} `
  + `${JSON.stringify(stats.by503)}, connection errors ${stats.connectionErrors} (HTTP thread down), timeouts ${stats.timeouts}, other ${JSON.stringify(stats.otherStatus)}`);
console.log(`  /state bodies checked ${stats.statesChecked}; stream: ${stats.streamConnects} connects, ${stats.streamEvents} events; ETags seen ${bodyOfEtag.size}`);
console.log(`  after the run: ${before.apps.size} installed apps, ${before.active.size} active tasks, ${before.recent.size} recent tasks checked against the view; missing ${missing.length}`);
console.log(`  violations: ${violations.length}`);
if (args.json) writeFileSync(args.json, JSON.stringify(figures, null, 2));
process.exit(violations.length === 0 ? 0 : 1);
