import { createHook } from 'node:async_hooks';

let kept: object | undefined;

/**
 * Keeps one of node's own tick objects alive for the life of this thread, so `process.nextTick` stays on
 * V8's fast path.
 *
 * Why: node 20 builds every tick as an object literal with computed (symbol) keys, and V8 holds the hidden
 * classes of that literal only weakly. Once a few full GCs find no tick alive, those classes die. This happens
 * typically through the memory reducer's GC, which runs a few seconds after a thread that has served its
 * first requests goes idle. The next tick then builds new classes. V8 sees a second class at the same
 * literal site and marks the site megamorphic, for good. From then on every nextTick defines its
 * properties in the runtime. An HTTP response makes several nextTick calls, so a 304 cost 1.6–1.8 × the
 * CPU of a fresh bare node:http server (perf: `Runtime_DefineKeyedOwnPropertyInLiteral`, `MigrateToMap`).
 * A bare server shows the same slowdown after serving 50 requests and idling for 12 s. One live tick keeps
 * the classes reachable, so the site stays monomorphic.
 *
 * The tick is taken from an async_hooks `init` hook, node's public view of it. The hook is enabled only
 * for that one synchronous `nextTick` call. Call this at thread start, before the first request.
 */
export function pinTickShape(): void {
  if (kept) return;
  const hook = createHook({
    init(_asyncId, type, _triggerAsyncId, resource) {
      if (type === 'TickObject') kept ??= resource as object;
    },
  });
  hook.enable();
  try {
    process.nextTick(() => undefined);
  } finally {
    hook.disable();
  }
}
