// The sources' live freshness, kept apart from the snapshot: the stream or the poll sets it, the banner reads it.

import { obj, setOwn } from './values.js';

/**
 * Each source's freshness (last success, failures, pass time), from the stream's `freshness` events or
 * `sources` fetched beside each poll. The snapshot holds only each source's health: freshness moves with every
 * pass and never mints a version, so it lives apart and the strip's ages tick without re-reading the snapshot.
 */
let liveFreshness = null;

export function setFreshness(f) {
  if (f && typeof f === 'object' && f.sources && typeof f.sources === 'object') liveFreshness = f;
}

/** Each replaced thread (restarts > 0) by name: `{restarts, last_restart_at, last_restart_reason}`. */
export function replacedThreads() {
  return Object.entries(obj(liveFreshness?.threads)).filter(([, t]) => typeof obj(t).restarts === 'number' && t.restarts > 0);
}

/** The snapshot's health per source, with the live freshness over it. */
export function sourcesOf(data) {
  const out = {};
  const health = obj(data.sources);
  const fresh = obj(liveFreshness?.sources);
  for (const name of new Set([...Object.keys(health), ...Object.keys(fresh)])) {
    setOwn(out, name, { ...obj(health[name]), ...obj(fresh[name]) });
  }
  return out;
}
