import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { expect } from 'vitest';
import { createLogger } from '../../src/log.ts';
import type { CollectorSpec } from '../../src/protocol.ts';
import { Supervisor, type SupervisorOptions } from '../../src/supervisor/supervisor.ts';
import { LIVENESS_MS } from './liveness.ts';

export { LIVENESS_MS };

const FAKE = new URL('../fixtures/fake-collector.ts', import.meta.url).href;

export function fake(source: CollectorSpec['source'], options: object): CollectorSpec {
  return { source, module: FAKE, options };
}

/** The real threads in this process, fed by the given collectors, on a free loopback port. */
export async function startInProcess(
  collectors: CollectorSpec[],
  opts: { intervalMs?: number; deadlineMs?: number; security?: { apiToken?: string; corsOrigins?: string[] };
    resourceLimits?: SupervisorOptions['resourceLimits']; chaosPort?: number; threadHungAfterMs?: number;
    maxIntervalMs?: number; memoryLimitBytes?: number } = {},
) {
  const sup = new Supervisor({
    resourceLimits: opts.resourceLimits,
    memoryLimitBytes: opts.memoryLimitBytes,
    chaosPort: opts.chaosPort,
    threadHungAfterMs: opts.threadHungAfterMs,
    collectMaxIntervalMs: opts.maxIntervalMs,
    port: 0, host: '127.0.0.1',
    security: opts.security,
    collectIntervalMs: opts.intervalMs ?? 200,
    collectDeadlineMs: opts.deadlineMs ?? 5000,
    shutdownTimeoutMs: 4000,
    collectors,
    log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
  });
  await sup.start();
  const base = `http://127.0.0.1:${sup.port}`;
  return { sup, base, get: (path: string, init?: RequestInit) => fetch(base + path, init) };
}


/** Polls until `check` passes or `timeoutMs` ends (then throws its last error). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = LIVENESS_MS, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}

/** Waits until the sidecar at `base` answers /readyz 200 (a liveness bound, not a budget). */
export async function untilReady(base: string, within = LIVENESS_MS): Promise<void> {
  await eventually(async () => expect((await fetch(`${base}/readyz`)).status).toBe(200), within);
}

/** Kills the store thread and waits until the supervisor replaced it: a kill that did nothing fails here. */
export async function killStore(sc: { sup: Supervisor }): Promise<void> {
  const before = sc.sup.storeRestarts;
  expect(sc.sup.kill('store')).toBe(true);
  await eventually(async () => expect(sc.sup.storeRestarts).toBe(before + 1), LIVENESS_MS, 20);
}

/** killStore, then waits until the new store is ready (/readyz 200). */
export async function restartStore(sc: { sup: Supervisor; base: string }): Promise<void> {
  await killStore(sc);
  await eventually(async () => expect((await fetch(`${sc.base}/readyz`)).status).toBe(200), LIVENESS_MS, 50);
}

/**
 * A whole sidecar process (src/main.ts machinery) with fake collectors; resolves once it listens. Every line
 * it writes on stdout is kept in `stdout`; with `captureStderr`, stderr is kept in `stderr` (else inherited).
 */
export async function spawnFakeSidecar(
  collectors: Array<{ source: string; options: object }>, env: Record<string, string> = {}, opts: { captureStderr?: boolean } = {},
): Promise<{ child: ChildProcess; base: string; exited: Promise<number | null>; closed: Promise<void>; stdout: string[]; stderr: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('../fixtures/fake-sidecar.ts', import.meta.url).pathname], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn', COLLECT_INTERVAL_MS: '200', RUNTIME_DEMO: 'off',
      DATABASE_URL: 'postgres://unused@127.0.0.1:1/none', FAKE_COLLECTORS: JSON.stringify(collectors), ...env },
    stdio: ['ignore', 'pipe', opts.captureStderr ? 'pipe' : 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  // its output streams ended too (after 'exit' there may be lines still to read)
  const closed = new Promise<void>((r) => child.once('close', () => r()));
  const stdout: string[] = [];
  const stderr: string[] = [];
  if (child.stderr) createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.on('line', (line) => {
      stdout.push(line);
      try {
        const msg = JSON.parse(line);
        if (typeof msg.port === 'number') resolve(msg.port);
      } catch { /* log lines */ }
    });
    child.once('exit', (code) => reject(new Error(`sidecar exited early with ${code}`)));
  });
  return { child, base: `http://127.0.0.1:${port}`, exited, closed, stdout, stderr };
}
