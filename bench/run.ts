// npm run bench [-- --smoke] [-- --sizes 50,1000,10000]
// Snapshot query throughput of the real sidecar against the machine's ceiling (bare node:http with the same
// bytes) and a naive implementation (one thread, JSON.stringify per request). See docs/performance.md.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measure, measureAlternating, rpsRatio, type LoadOptions, type LoadResult } from './lib/load.ts';
import { rssMiB } from './lib/proc.ts';
import { startComparison, startDemo, startSidecar, type Server } from './lib/servers.ts';
import { tickShapeReport } from './lib/tick-shape.ts';

const { values: args } = parseArgs({
  options: { smoke: { type: 'boolean', default: false }, sizes: { type: 'string' }, seconds: { type: 'string' } },
});
const smoke = args.smoke!;
const sizes = (args.sizes ?? '50,1000,10000').split(',').map(Number);
const opts: LoadOptions = { connections: 10, warmupS: smoke ? 1 : 3, durationS: Number(args.seconds ?? (smoke ? 2 : 10)) };
const tmp = mkdtempSync(join(tmpdir(), 'mr-bench-'));
const S = '/api/v2/runtime/state';

const rows: LoadResult[] = [];
const extras: Record<string, unknown> = {};
const targets: Array<{ target: string; value: string; met: boolean }> = [];
let port = 19_100;

/** The sidecar's compression jobs so far, by encoding (from its /metrics). */
async function compressionJobs(server: Server): Promise<Record<string, number>> {
  const text = await (await fetch(`${server.base}/metrics`)).text();
  return Object.fromEntries([...text.matchAll(/^market_runtime_http_compressions_total\{encoding="(\w+)"\} (\S+)$/gm)]
    .map((m) => [m[1]!, Number(m[2])]));
}

function log(line: string) {
  process.stderr.write(`${line}\n`);
}

async function atSize(apps: number): Promise<void> {
  log(`\n== ${apps} installed apps`);
  const seeded = Date.now();
  // its own process: during passes its PostgreSQL must not block the load generator's event loop
  const demo = await startDemo(apps);
  log(`seeded in ${Date.now() - seeded} ms`);
  const servers: Server[] = [];
  try {
    // static data and no passes during the throughput runs: one version, so 304s stay 304s
    const ours = await startSidecar(port++, {
      DATABASE_URL: demo.databaseUrl, CHART_REPO_SERVICE_HOST: demo.chartRepoHost, COLLECT_INTERVAL_MS: '3600000',
    });
    servers.push(ours);
    const identity = { headers: { 'Accept-Encoding': 'identity' } };
    const snapshot = await (await fetch(ours.base + S, identity)).json();
    const file = join(tmp, `state-${apps}.json`);
    writeFileSync(file, JSON.stringify(snapshot));
    const etag = (await fetch(ours.base + S, identity)).headers.get('etag')!;
    const user = (Object.values(snapshot.data.app_states)[0] as { user_id: string }).user_id;
    const taskId = Object.keys(snapshot.data.tasks)[0];
    const filtered = `${S}?user_id=${encodeURIComponent(user)}&task_status=running`;
    extras[`rss_mib_${apps}`] = rssMiB(ours.pid);
    extras[`pass_${apps}`] = Object.fromEntries(Object.entries(snapshot.data.sources as Record<string, { duration_ms: number; counters?: { apply_ms?: number } }>)
      .map(([k, v]) => [k, { collect_ms: v.duration_ms, apply_ms: v.counters?.apply_ms }]));

    // the limit answers with our exact bytes: the same body and the same response headers
    const pick = (h: Headers) => Object.fromEntries([...h].filter(([k]) => !['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(k)));
    const okHeaders = pick((await fetch(ours.base + S, identity)).headers);
    const nmHeaders = pick((await fetch(ours.base + S, { headers: { ...identity.headers, 'If-None-Match': etag } })).headers);
    const headersFile = join(tmp, `headers-${apps}.json`);
    writeFileSync(headersFile, JSON.stringify({ etag, ok: okHeaders, notModified: nmHeaders }));
    const limit = await startComparison('limit', port++, file, headersFile);
    servers.push(limit);
    const naive = await startComparison('naive', port++, file);
    servers.push(naive);

    const keep = (r: LoadResult) => {
      rows.push(r);
      log(`${r.scenario.padEnd(36)} ${r.server.padEnd(12)} ${String(r.rps).padStart(7)} req/s  p99 ${r.p99} ms  cpu ${r.cpuMsPerReq} ms/req  errors ${r.errors}`);
      return r;
    };
    const add = async (scenario: string, server: Server, path: string, headers: Record<string, string> = {}, expect304 = false) =>
      keep(await measure(`${apps} apps: ${scenario}`, server, path, headers, opts, expect304));
    // ours against the limit in alternating rounds: their ratio is a target
    const pair = async (scenario: string, path: string, headers: Record<string, string> = {}, expect304 = false, rounds = 5) =>
      (await measureAlternating(`${apps} apps: ${scenario}`, [ours, limit], path, headers,
        smoke ? opts : { ...opts, durationS: opts.durationS * (rounds / 5) }, expect304, smoke ? 1 : rounds)).map(keep);
    const [oursFull, limitFull] = await pair('unfiltered /state', S);
    const naiveFull = await add('unfiltered /state', naive, S);
    const oursFiltered = await add('filtered /state', ours, filtered);
    const naiveFiltered = await add('filtered /state', naive, filtered);
    await add('partial: one task', ours, `/api/v2/runtime/tasks/${encodeURIComponent(taskId ?? 'none')}`);
    await add('partial: one task', naive, `/api/v2/runtime/tasks/${encodeURIComponent(taskId ?? 'none')}`);
    // 304s are cheap and their ratio moves most from one 2 s round to the next: three times the rounds
    const [ours304, limit304] = await pair('conditional GET (304)', S, { 'If-None-Match': etag }, true, 15);
    // the sidecar counts its compression jobs (market_runtime_http_compressions_total, run in the compression
    // thread): at one version each encoding must cost one job, however many answers it serves
    const jobsBefore = await compressionJobs(ours);
    const gzip = await add('unfiltered, gzip', ours, S, { 'Accept-Encoding': 'gzip' });
    const br = await add('unfiltered, br', ours, S, { 'Accept-Encoding': 'br' });
    const jobsAfter = await compressionJobs(ours);
    const jobs = (e: string) => (jobsAfter[e] ?? 0) - (jobsBefore[e] ?? 0);
    extras[`compression_${apps}`] = { gzip: { jobs: jobs('gzip'), answers: gzip.requests }, br: { jobs: jobs('br'), answers: br.requests } };

    const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : 0);
    extras[`ratios_${apps}`] = {
      unfiltered_ours_over_limit: rpsRatio(oursFull, limitFull),
      unfiltered_ours_over_naive: ratio(oursFull.rps, naiveFull.rps),
      cpu_ours_over_limit: ratio(oursFull.cpuMsPerReq, limitFull.cpuMsPerReq),
      filtered_ours_over_naive: ratio(oursFiltered.rps, naiveFiltered.rps),
      not_modified_ours_over_limit: rpsRatio(ours304, limit304),
      not_modified_cpu_ours_over_limit: ratio(ours304.cpuMsPerReq, limit304.cpuMsPerReq),
    };
    extras[`rounds_rps_${apps}`] = {
      unfiltered: { ours: oursFull.roundRps, limit: limitFull.roundRps },
      not_modified: { ours: ours304.roundRps, limit: limit304.roundRps },
    };
    if (apps === 1000) {
      targets.push({ target: 'unfiltered /state at 1,000 apps >= 0.85 x limit req/s', value: `${rpsRatio(oursFull, limitFull)}`, met: rpsRatio(oursFull, limitFull) >= 0.85 });
      targets.push({ target: 'CPU per request at 1,000 apps <= 1.4 x limit', value: `${ratio(oursFull.cpuMsPerReq, limitFull.cpuMsPerReq)}`, met: oursFull.cpuMsPerReq <= 1.4 * limitFull.cpuMsPerReq });
      targets.push({ target: 'filtered /state >= 5 x naive', value: `${ratio(oursFiltered.rps, naiveFiltered.rps)}`, met: oursFiltered.rps >= 5 * naiveFiltered.rps });
    }
    if (apps === 50) {
      targets.push({ target: 'unfiltered /state at 50 apps >= 0.6 x limit', value: `${rpsRatio(oursFull, limitFull)}`, met: rpsRatio(oursFull, limitFull) >= 0.6 });
    }
    targets.push({
      target: `compressed bodies once per version, in the compression thread (${apps} apps)`,
      value: `gzip ${jobs('gzip')} job for ${gzip.requests} answers, br ${jobs('br')} for ${br.requests}`,
      met: jobs('gzip') <= 1 && jobs('br') <= 1 && gzip.requests > 0 && br.requests > 0,
    });
    targets.push({ target: `304 path >= 0.9 x limit (${apps} apps)`, value: `${rpsRatio(ours304, limit304)}`, met: rpsRatio(ours304, limit304) >= 0.9 });
    for (const s of servers.splice(1)) await s.stop();
    await ours.stop();
    servers.length = 0;

    if (apps === Math.max(...sizes)) {
      // the same data, now with a collection pass every second: p99 while passes are applied, vs idle
      const busy = await startSidecar(port++, {
        DATABASE_URL: demo.databaseUrl, CHART_REPO_SERVICE_HOST: demo.chartRepoHost, COLLECT_INTERVAL_MS: '1000',
      });
      servers.push(busy);
      const during = await measure(`${apps} apps: /state during passes`, busy, S, {}, opts);
      rows.push(during);
      const state = await (await fetch(busy.base + S)).json();
      extras[`pass_during_load_${apps}`] = Object.fromEntries(Object.entries(state.data.sources as Record<string, { duration_ms: number; counters?: { apply_ms?: number } }>)
        .map(([k, v]) => [k, { collect_ms: v.duration_ms, apply_ms: v.counters?.apply_ms }]));
      extras[`p99_idle_vs_during_passes_${apps}`] = { idle: oursFull.p99, during: during.p99 };
      targets.push({ target: `p99 during passes <= 2 x idle p99 (${apps} apps)`, value: `${oursFull.p99} -> ${during.p99} ms`, met: during.p99 <= 2 * Math.max(oursFull.p99, 1) });
      await busy.stop();
      servers.length = 0;
    }
  } finally {
    for (const s of servers) await s.stop().catch(() => undefined);
    await demo.stop();
  }
}

// the 304 path's cost depends on nextTick staying on V8's fast path (src/tick-shape.ts): V8's own view first
const tick = await tickShapeReport();
log(tick.line);
extras.tick_shape = { pinned: tick.pinned, unpinned: tick.unpinned };
targets.push({ target: 'process.nextTick stays monomorphic after idle GCs with pinTickShape (the 304 cost)', value: tick.line.replace(/^.*: /, ''), met: tick.monomorphic });

for (const size of sizes) await atSize(size);

const table = [
  '| scenario | server | body bytes | req/s | p50 ms | p99 ms | MB/s | CPU ms/req | errors |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.scenario} | ${r.server} | ${r.bytes} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.mbps} | ${r.cpuMsPerReq} | ${r.errors} |`),
].join('\n');
const targetTable = [
  '| target | measured | met |', '|---|---|---|',
  ...targets.map((t) => `| ${t.target} | ${t.value} | ${t.met ? 'met' : 'NOT met'} |`),
].join('\n');
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
process.stdout.write(`\nmachine: ${machine}\n\n${table}\n\n${targetTable}\n\n${JSON.stringify(extras, null, 2)}\n`);

mkdirSync('bench/results', { recursive: true });
const out = `bench/results/bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(out, JSON.stringify({ machine, smoke, opts, rows, targets, extras }, null, 2));
process.stdout.write(`\nwritten: ${out}\n`);

const errors = rows.reduce((n, r) => n + r.errors, 0);
if (errors > 0) {
  process.stdout.write(`FAILED: ${errors} request errors\n`);
  process.exit(1);
}
process.exit(0);
