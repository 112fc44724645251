import * as Comlink from 'comlink';
// comlink's Node adapter has no package export, only this file of its dist layout (and hand-written types,
// src/types/comlink-node-adapter.d.ts): package.json pins comlink exactly (GoogleChromeLabs/comlink#508)
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { MessagePort, Worker } from 'node:worker_threads';

export type ThreadKind = 'store' | 'http' | 'collector' | 'compress';

/**
 * The file a thread of a kind starts from. Built code runs `dist/workers/<kind>.js`; source code runs a
 * tiny `.mjs` bootstrap that registers tsx first (Node 20 cannot start a `.ts` worker directly). Built, this
 * code sits one level below dist/ whether tsc emitted it (dist/src/) or it was bundled (dist/src/main.js,
 * dist/workers/, dist/chunks/: scripts/bundle-threads.mjs keeps every bundle at that depth).
 */
export function threadFile(kind: ThreadKind): URL {
  const fromSource = import.meta.url.endsWith('.ts');
  return new URL(fromSource ? `../workers/${kind}.boot.mjs` : `../workers/${kind}.js`, import.meta.url);
}

/** comlink over a worker_threads MessagePort or Worker. */
export function wrap<T>(port: MessagePort | Worker): Comlink.Remote<T> {
  return Comlink.wrap<T>(nodeEndpoint(port));
}

export function expose(api: object, port: MessagePort | import('node:worker_threads').MessagePort | null): void {
  if (!port) throw new Error('expose: no port (not running in a worker thread?)');
  Comlink.expose(api, nodeEndpoint(port));
}

export { Comlink };

/** What a cross-thread call that ran past its deadline rejects with. */
export class CallDeadlineError extends Error {
  override readonly name = 'CallDeadlineError';
}

/** How long a control call to another thread may take before its caller gives up on it. */
export const CALL_DEADLINE_MS = 5_000;

/** The first call to a thread just started also waits for it to load its code (slow on a busy machine). */
export const THREAD_START_DEADLINE_MS = 60_000;

/**
 * A cross-thread call with a deadline. comlink never rejects a call whose other side died (the reply just
 * never comes), so every call across threads goes through here: past `ms` it rejects with
 * CallDeadlineError naming `what`, and the caller moves on (the late answer, if any, is ignored).
 */
export function callWithDeadline<T>(call: Promise<T> | T, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CallDeadlineError(`${what}: no answer within ${ms} ms (the other thread is gone or stuck)`)), ms);
  });
  const answer = Promise.resolve(call);
  // a late rejection after the deadline must not become an unhandled rejection
  answer.catch(() => undefined);
  return Promise.race([answer, deadline]).finally(() => clearTimeout(timer));
}

/**
 * A promise that rejects when `worker` exits (at once if it has), for a call to it to race: a thread that exits
 * never answers. `off` drops the listener once the call is settled.
 */
export function exitOf(worker: Worker, what: string): { exited: Promise<never>; off: () => void } {
  let onExit = (): void => undefined;
  const exited = new Promise<never>((_, reject) => {
    onExit = () => reject(new Error(`${what}: the thread exited`));
    if (worker.threadId === -1) onExit();
    else worker.once('exit', onExit);
  });
  exited.catch(() => undefined);
  return { exited, off: () => worker.off('exit', onExit) };
}

/** Chaos testing only: keeps this thread busy for `ms` — a thread that loops, for the supervisor's watchdog. */
export function blockFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* hung */ }
}
