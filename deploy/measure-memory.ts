// Measures the resident memory of the built sidecar (`node dist/main.js`, every thread) against a demo
// market of a given size written to a scratch database on a real PostgreSQL, to size the manifest's
// resources. Usage (after `npm run build`):
//   node --import tsx deploy/measure-memory.ts [apps=1000] [seconds=30] [admin-url=postgres://postgres@127.0.0.1:5432/postgres]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { startDemoMarket } from '../src/demo/market.ts';

const apps = Number(process.argv[2] ?? 1000);
const seconds = Number(process.argv[3] ?? 30);
const adminUrl = process.argv[4] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dbName = `mr_measure_${process.pid}`;

const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`CREATE DATABASE ${dbName}`);
const url = new URL(adminUrl);
url.pathname = `/${dbName}`;
const market = await startDemoMarket({ databaseUrl: url.toString(), seedSize: { installedApps: apps }, eventsPerSecond: 20, tickMs: 1000 });

function kib(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

const child = spawn(process.execPath, ['dist/main.js'], {
  env: { ...process.env, RUNTIME_DEMO: 'off', DATABASE_URL: market.databaseUrl, CHART_REPO_SERVICE_HOST: market.chartRepoHost,
    PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', COLLECT_INTERVAL_MS: '5000' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const samples: number[] = [];
const end = Date.now() + seconds * 1000;
while (Date.now() < end) {
  await new Promise((r) => setTimeout(r, 500));
  samples.push(kib(child.pid!, 'VmRSS'));
}
const peak = kib(child.pid!, 'VmHWM');
child.kill('SIGTERM');
const code = await new Promise((r) => child.once('exit', r));
await market.stop();
await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
await admin.end();
const last = samples.slice(-10);
console.log(JSON.stringify({
  apps, seconds, exit: code,
  rss_mib_steady: Math.round(last.reduce((a, b) => a + b, 0) / last.length / 1024),
  rss_mib_max_sampled: Math.round(Math.max(...samples) / 1024),
  rss_mib_peak_hwm: Math.round(peak / 1024),
}));
