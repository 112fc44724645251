/**
 * Soak (issue 7): the real sidecar, as a child process on the embedded demo market (collection every
 * second), under 100 autocannon connections for a while, with its resident memory sampled.
 *
 *   npm run soak                       # 30 minutes (RSS settles in the first ~15: docs/reliability.md, Soak)
 *   npm run soak -- --seconds 60       # the CI version
 *   options: --seconds N  --connections N  --segment N (seconds per latency row)  --dist (run dist/main.js)
 *            --json FILE (write the figures)  --max-growth PCT (default 10)
 *            --warmup N (seconds before the RSS baseline; default half the run, at most 600)
 *            --embedded (the demo market inside the sidecar process, as `npm start` does; by default it runs
 *            in a process of its own (`npm run demo`), so the RSS measured is the sidecar's alone: PGlite's
 *            WASM heap and the workload's model grow on their own and are reported apart)
 *
 * Fails (exit 1) on any error (connection error, timeout, 5xx, a 4xx other than 404 of an entity that left the
 * view), on the sidecar exiting, or when RSS grows more than the bound between the end of warm-up and the end.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { freePort, sleep } from './lib/net.ts';
import { API } from './lib/sidecar.ts';
import { sumByLabel } from './lib/metrics.ts';
import { median } from './lib/median.ts';
import { rssMiB } from './lib/proc.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1800' },
    connections: { type: 'string', default: '100' },
    segment: { type: 'string' },
    dist: { type: 'boolean', default: false },
    json: { type: 'string' },
    'max-growth': { type: 'string', default: '10' },
    'max-rss': { type: 'string' },
    embedded: { type: 'boolean', default: false },
    warmup: { type: 'string' },
  },
});

const SECONDS = Math.max(10, Number(args.seconds));
const CONNECTIONS = Math.max(1, Number(args.connections));
const SEGMENT = Math.max(5, Number(args.segment ?? Math.min(60, Math.ceil(SECONDS / 4))));
const MAX_GROWTH = Number(args['max-growth']);
/** absolute ceiling in MiB (the pod's memory limit), checked on every sample */
const MAX_RSS = args['max-rss'] === undefined ? Infinity : Number(args['max-rss']);
// warm-up: until the bounded caches are full — above all the change stream's replay history (256
// versions; with collection every second the store makes ~4 versions a second, so ~60 s) — and the heaps of
// every thread have found their size. Growth after that is what a leak would look like.
const WARMUP_S = Math.round(Number(args.warmup ?? Math.min(600, SECONDS * 0.5)));
const SAMPLE_MS = 2000;
const root = new URL('..', import.meta.url);



/** the sidecar's resident memory in MiB, or null once it is gone */
function rssOrNull(pid: number): number | null {
  try {
    return rssMiB(pid);
  } catch {
    return null;
  }
}


const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const entry = args.dist ? ['dist/main.js'] : ['--import', 'tsx', 'src/main.ts'];
const env: NodeJS.ProcessEnv = {
  ...process.env, PORT: String(port), HOST: '127.0.0.1', RUNTIME_DEMO: 'on', COLLECT_INTERVAL_MS: '1000',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  // as in the image: glibc gives every thread its own malloc arena otherwise, and RSS then drifts up with
  // native fragmentation while every JavaScript heap stays flat (see docs/reliability.md, Soak)
  MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2', MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '131072',
  MALLOC_TRIM_THRESHOLD_: process.env.MALLOC_TRIM_THRESHOLD_ ?? '131072',
};
delete env.DATABASE_URL;
delete env.RUNTIME_API_TOKEN;

// the demo market in its own process: its URL and Chart Repo host come on its first info line
let demo: ReturnType<typeof spawn> | null = null;
if (!args.embedded) {
  demo = spawn(process.execPath, ['--import', 'tsx', 'src/demo/cli.ts'], {
    cwd: root, env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const found = await new Promise<{ db: string; chart: string }>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('the demo market did not start within 120 s')), 120_000);
    demo!.once('exit', (code) => reject(new Error(`the demo market exited with ${code}`)));
    demo!.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      const m = /DATABASE_URL=(\S+) CHART_REPO_SERVICE_HOST=([^\s"]+)/.exec(buf);
      if (m) { clearTimeout(timer); resolve({ db: m[1]!, chart: m[2]! }); }
    });
  }).catch((e: Error) => { console.error(`soak: ${e.message}`); demo?.kill('SIGKILL'); process.exit(1); });
  demo.stdout!.resume();
  env.RUNTIME_DEMO = 'off';
  env.DATABASE_URL = found.db;
  env.CHART_REPO_SERVICE_HOST = found.chart;
}
const child = spawn(process.execPath, entry, {
  cwd: root,
  env,
  stdio: ['ignore', 'pipe', 'pipe'],
});
const tail: string[] = [];
const keep = (b: Buffer) => { for (const l of b.toString().split('\n')) if (l) tail.push(l.slice(0, 400)); tail.splice(0, tail.length - 30); };
child.stdout.on('data', keep);
child.stderr.on('data', keep);
let exited: number | null | undefined;
child.once('exit', (code) => { exited = code; });

function fail(msg: string): never {
  console.error(`soak: ${msg}`);
  if (tail.length) console.error(`last sidecar output:\n${tail.join('\n')}`);
  if (exited === undefined) child.kill('SIGKILL');
  demo?.kill('SIGKILL');
  process.exit(1);
}

// ready: every collector finished its first pass
{
  const end = Date.now() + 120_000;
  for (;;) {
    if (exited !== undefined) fail(`the sidecar exited with ${exited} before it was ready`);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > end) fail('the sidecar was not ready within 120 s');
    await sleep(250);
  }
}

// what to ask for: real users, apps and tasks of the demo market, and the current ETags
type Snap = { data: { app_states: Record<string, { user_id: string; source_id: string; app_name: string }>; tasks: Record<string, unknown> } };
const first = (await (await fetch(`${base}/api/v2/runtime/state`)).json()) as Snap;
const apps = Object.values(first.data.app_states);
if (apps.length === 0) fail('the demo market has no apps');
const users = [...new Set(apps.map((a) => a.user_id))].slice(0, 5);
const appNames = [...new Set(apps.map((a) => a.app_name))].slice(0, 5);
const taskIds = Object.keys(first.data.tasks).slice(0, 5);
const one = apps[0]!;
const FILTERED = `${API}/state?user_id=${encodeURIComponent(users[0]!)}&task_status=running`;

const etags = { full: '', filtered: '' };
async function refreshEtags(): Promise<void> {
  for (const [k, path] of [['full', `${API}/state`], ['filtered', FILTERED]] as const) {
    try {
      const res = await fetch(base + path);
      await res.arrayBuffer();
      etags[k] = res.headers.get('etag') ?? '';
    } catch { /* counted by autocannon if it persists */ }
  }
}
await refreshEtags();
const etagTimer = setInterval(() => void refreshEtags(), 1000);

const requests: autocannon.Request[] = [
  { method: 'GET', path: `${API}/state` },
  { method: 'GET', path: FILTERED },
  { method: 'GET', path: `${API}/state`, setupRequest: (r) => ({ ...r, headers: { ...r.headers, 'if-none-match': etags.full } }) },
  { method: 'GET', path: `/app-store${API}/state?app_name=${encodeURIComponent(appNames[0]!)}` },
  { method: 'GET', path: FILTERED, setupRequest: (r) => ({ ...r, headers: { ...r.headers, 'if-none-match': etags.filtered } }) },
  { method: 'GET', path: `${API}/users/${encodeURIComponent(users[1 % users.length]!)}/apps` },
  { method: 'GET', path: `${API}/state` },
  { method: 'GET', path: `${API}/tasks?app_name=${encodeURIComponent(appNames[1 % appNames.length]!)}` },
  { method: 'GET', path: `${API}/apps/${[one.user_id, one.source_id, one.app_name].map(encodeURIComponent).join('/')}` },
  { method: 'GET', path: `${API}/users/${encodeURIComponent(users[0]!)}/tasks` },
  { method: 'GET', path: `${API}/state`, setupRequest: (r) => ({ ...r, headers: { ...r.headers, 'if-none-match': etags.full } }) },
  ...(taskIds.length ? [{ method: 'GET' as const, path: `${API}/tasks/${encodeURIComponent(taskIds[0]!)}` }] : []),
  { method: 'GET', path: `${API}/state?task_type=install&source_id=${encodeURIComponent(one.source_id)}` },
];

// memory: sampled all along, from /proc (the sidecar's own RSS)
const t0 = Date.now();
const samples: Array<{ t: number; rss: number }> = [];
const demoSamples: number[] = [];
const sampler = setInterval(() => {
  const rss = rssOrNull(child.pid!);
  if (rss !== null) samples.push({ t: (Date.now() - t0) / 1000, rss });
  const d = demo?.pid ? rssOrNull(demo.pid) : null;
  if (d !== null) demoSamples.push(d);
}, SAMPLE_MS);

/** the size of the view, so memory can be read against the data it holds */
async function viewSize(): Promise<string> {
  try {
    const body = (await (await fetch(`${base}${API}/state`)).json()) as { data: { summary: { total_apps: number; total_tasks: number } } };
    return `${body.data.summary.total_apps} apps, ${body.data.summary.total_tasks} tasks`;
  } catch {
    return '?';
  }
}
const sizes: string[] = [];

/**
 * What the sidecar says it holds: every thread's V8 heap in use (MiB, summed) and the store's timeline entries.
 * RSS that grows while these stay flat is native memory; the timelines grow by design toward their bound
 * (departed histories are kept an hour), which a churning market reaches only after a while.
 */
async function heldBySidecar(): Promise<{ heap_mib: number; timeline_entries: number } | null> {
  try {
    const text = await (await fetch(`${base}/metrics`)).text();
    return {
      heap_mib: Math.round(sumByLabel(text, 'market_runtime_thread_heap_bytes', 'thread') / 1048576 * 10) / 10,
      timeline_entries: sumByLabel(text, 'market_runtime_timeline_entries', 'kind'),
    };
  } catch {
    return null;
  }
}

interface Row {
  minute: string; requests: number; rps: number; p50: number; p99: number; max: number; errors: number; s304: number; s404: number;
  heap_mib?: number; timeline_entries?: number;
}
const rows: Row[] = [];
const totals = { requests: 0, errors: 0, timeouts: 0, s5xx: 0, s4xx: 0, s404: 0, s304: 0, s2xx: 0 };

console.log(`soak: ${SECONDS} s, ${CONNECTIONS} connections, ${requests.length} request kinds, warm-up ${WARMUP_S} s, sidecar pid ${child.pid} on ${base}`);
let left = SECONDS;
while (left > 0) {
  if (exited !== undefined) fail(`the sidecar exited with ${exited} during the run`);
  const seconds = Math.min(SEGMENT, left);
  const from = SECONDS - left;
  const r = await autocannon({ url: base, connections: CONNECTIONS, duration: seconds, requests, timeout: 10 });
  const codes = r.statusCodeStats as unknown as Record<string, { count: number }>;
  const count = (pred: (c: number) => boolean) => Object.entries(codes).filter(([c]) => pred(Number(c))).reduce((n, [, v]) => n + v.count, 0);
  const s404 = count((c) => c === 404);
  const s4xx = count((c) => c >= 400 && c < 500 && c !== 404);
  const s5xx = count((c) => c >= 500);
  const s304 = count((c) => c === 304);
  const errors = r.errors + r.timeouts + s4xx + s5xx;
  totals.requests += r.requests.total;
  totals.errors += r.errors;
  totals.timeouts += r.timeouts;
  totals.s5xx += s5xx;
  totals.s4xx += s4xx;
  totals.s404 += s404;
  totals.s304 += s304;
  totals.s2xx += r['2xx'];
  rows.push({
    minute: `${from}-${from + seconds}s`, requests: r.requests.total, rps: Math.round(r.requests.average),
    p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, errors, s304, s404,
  });
  const last = rows.at(-1)!;
  const rss = samples.at(-1)?.rss;
  sizes.push(await viewSize());
  const held = await heldBySidecar();
  if (held) Object.assign(last, held);
  console.log(`  ${last.minute.padEnd(10)} ${String(last.requests).padStart(9)} req  ${String(last.rps).padStart(6)} req/s  p50 ${last.p50} ms  p99 ${last.p99} ms  max ${last.max} ms  errors ${errors}  304 ${s304}  404 ${s404}  rss ${rss?.toFixed(0)} MiB  heaps ${held?.heap_mib ?? '?'} MiB  timeline ${held?.timeline_entries ?? '?'}  view ${sizes.at(-1)}${demo ? `  (demo market rss ${demoSamples.at(-1)?.toFixed(0)} MiB)` : ''}`);
  left -= seconds;
}
clearInterval(sampler);
clearInterval(etagTimer);

const atWarmup = median(samples.filter((s) => s.t >= WARMUP_S && s.t < WARMUP_S + 3 * SAMPLE_MS / 1000 + 0.5).map((s) => s.rss));
const atEnd = median(samples.slice(-3).map((s) => s.rss));
const peak = Math.max(...samples.map((s) => s.rss));
const growth = ((atEnd - atWarmup) / atWarmup) * 100;
const p99s = rows.map((r) => r.p99);
const errors = totals.errors + totals.timeouts + totals.s5xx + totals.s4xx;

child.kill('SIGTERM');
const stopped = await Promise.race([
  new Promise<number | null>((r) => (exited !== undefined ? r(exited) : child.once('exit', (c) => r(c)))),
  sleep(15_000).then(() => 'timeout' as const),
]);
if (stopped === 'timeout') child.kill('SIGKILL');
demo?.kill('SIGTERM');

const figures = {
  seconds: SECONDS, connections: CONNECTIONS, collect_interval_ms: 1000, warmup_s: WARMUP_S,
  requests: totals.requests, rps: Math.round(totals.requests / SECONDS), errors,
  breakdown: { connection_errors: totals.errors, timeouts: totals.timeouts, '5xx': totals.s5xx, '4xx_not_404': totals.s4xx, '404': totals.s404, '304': totals.s304, '2xx': totals.s2xx },
  per_segment: rows,
  p99_min_ms: Math.min(...p99s), p99_max_ms: Math.max(...p99s),
  rss_mib: { after_warmup: Math.round(atWarmup), end: Math.round(atEnd), peak: Math.round(peak), growth_pct: Math.round(growth * 10) / 10 },
  demo_market: demo ? { separate_process: true, rss_mib_first: Math.round(demoSamples[0] ?? NaN), rss_mib_end: Math.round(demoSamples.at(-1) ?? NaN) } : { separate_process: false },
  view: sizes,
  graceful_stop_exit: stopped,
};
console.log(`\nsoak figures: ${totals.requests} requests (${figures.rps} req/s), ${errors} errors `
  + `(connection ${totals.errors}, timeouts ${totals.timeouts}, 5xx ${totals.s5xx}, other 4xx ${totals.s4xx}); `
  + `304 ${totals.s304}, 404 ${totals.s404}`);
console.log(`p99 per segment: ${p99s.join(', ')} ms`);
console.log(`RSS: ${figures.rss_mib.after_warmup} MiB after ${WARMUP_S} s warm-up, ${figures.rss_mib.end} MiB at the end `
  + `(growth ${figures.rss_mib.growth_pct} %, bound ${MAX_GROWTH} %), peak ${figures.rss_mib.peak} MiB; sidecar stop exit ${String(stopped)}`);
if (args.json) writeFileSync(args.json, JSON.stringify(figures, null, 2));

const problems: string[] = [];
if (errors > 0) problems.push(`${errors} errors`);
if (!(growth <= MAX_GROWTH)) problems.push(`RSS grew ${growth.toFixed(1)} % after warm-up (bound ${MAX_GROWTH} %)`);
if (peak > MAX_RSS) problems.push(`RSS peaked at ${Math.round(peak)} MiB (ceiling ${MAX_RSS} MiB)`);
if (totals.requests === 0) problems.push('no request was answered');
if (problems.length) {
  console.error(`soak FAILED: ${problems.join('; ')}`);
  process.exit(1);
}
console.log('soak passed');
process.exit(0);
