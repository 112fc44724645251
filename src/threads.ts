import * as Comlink from 'comlink';
// comlink's Node adapter has no package export, only this file of its dist layout (and hand-written types,
// src/types/comlink-node-adapter.d.ts): package.json pins comlink exactly (GoogleChromeLabs/comlink#508)
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { MessagePort, Worker } from 'node:worker_threads';

export type ThreadKind = 'store' | 'http' | 'collector' | 'compress';

/**
 * The file a thread of a kind starts from. Built code runs `dist/workers/<kind>.js`; source code runs a
 * tiny `.mjs` bootstrap that registers tsx first (Node 20 cannot start a `.ts` worker directly).
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
