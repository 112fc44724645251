import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PRODUCTION_FLAGS } from './production-flags.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Server {
  name: string;
  child: ChildProcess;
  pid: number;
  base: string;
  stop(): Promise<void>;
}

function track(name: string, child: ChildProcess, base: string): Server {
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    name, child, pid: child.pid!, base,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 12_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitReady(base: string, path: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      if ((await fetch(base + path)).status === 200) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${base}${path} not ready in ${timeoutMs} ms`);
}

/** The real sidecar as its own process, started as the image starts it (built code when dist/ exists, else from source). */
export async function startSidecar(port: number, env: Record<string, string>, readyTimeoutMs = 60_000): Promise<Server> {
  const built = existsSync(`${ROOT}dist/main.js`);
  const args = [...PRODUCTION_FLAGS, ...(built ? [`${ROOT}dist/main.js`] : ['--import', 'tsx', `${ROOT}src/main.ts`])];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'error', RUNTIME_DEMO: 'off', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  await waitReady(base, '/readyz', readyTimeoutMs).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  return track(built ? 'ours (dist)' : 'ours (tsx)', child, base);
}

/** A comparison server from bench/servers/ (limit or naive) serving a snapshot file. */
export async function startComparison(kind: 'limit' | 'naive', port: number, file: string, headersFile?: string): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${ROOT}bench/servers/${kind}.ts`, String(port), file, ...(headersFile ? [headersFile] : [])], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', () => resolve());
    child.once('exit', (code) => reject(new Error(`${kind} exited with ${code}`)));
  });
  return track(kind, child, `http://127.0.0.1:${port}`);
}

/**
 * The demo market seeded at `apps` installed apps, as its own process (bench/servers/demo.ts): static, or
 * live with a workload of `eventsPerSecond` user events (the market moving every second).
 */
export async function startDemo(apps: number, seed = 42, eventsPerSecond?: number): Promise<Server & { databaseUrl: string; chartRepoHost: string }> {
  const argv = [String(apps), String(seed), ...(eventsPerSecond === undefined ? [] : [String(eventsPerSecond)])];
  const child = spawn(process.execPath, ['--import', 'tsx', `${ROOT}bench/servers/demo.ts`, ...argv], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the demo market exited with ${code}`)));
  });
  const m = /DATABASE_URL=(\S+) CHART_REPO_SERVICE_HOST=(\S+)/.exec(line);
  if (!m) throw new Error(`the demo market said ${JSON.stringify(line)}`);
  return { ...track('demo market', child, ''), databaseUrl: m[1]!, chartRepoHost: m[2]! };
}
