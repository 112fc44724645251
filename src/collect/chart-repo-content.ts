import { digestOf } from '../content-digest.ts';
import type { ChartRepoStatus } from '../model/index.ts';

/**
 * Chart Repo values that only tell time passing (the Chart Repo's uptime, the image analyzer's last_check, a
 * running item's processing duration) and the conversion times we stamp (last_update): none of them is a
 * change a reader can see, so none may mint a version. Keyed by name: these names mean only that in the payload.
 */
const TIME_PASSING = new Set(['uptime', 'last_check', 'duration', 'last_update']);

function withoutTimePassing(key: string, value: unknown): unknown {
  return TIME_PASSING.has(key) ? undefined : value;
}

/**
 * A Chart Repo answer's text without the members that only tell time passing: two answers whose keys are
 * equal say the same thing, so the second needs no parse and no normalizing. Matched as members only — a
 * `"uptime"` preceded by `{` or `,` — which inside a JSON string is impossible (its quotes are escaped).
 */
export function bodyContentKey(text: string): string {
  return text.replace(TIME_PASSING_MEMBER, '$1');
}
const TIME_PASSING_MEMBER = /([{,]\s*)"(?:uptime|last_check|duration|last_update)"\s*:\s*(?:"(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*|null|true|false)\s*(?=[,}])/g;

/** The Chart Repo's uptime in an answer's text (first `system.uptime`-like member), for the freshness counter. */
export function uptimeIn(text: string): number | undefined {
  const m = /[{,]\s*"uptime"\s*:\s*(\d+(?:\.\d+)?)\s*[,}]/.exec(text);
  return m ? Math.trunc(Number(m[1])) : undefined;
}

/** What must differ for the Chart Repo view (or one of its items) to count as changed. */
export function chartRepoContentKey(value: unknown): string {
  return JSON.stringify(value, withoutTimePassing);
}

/**
 * The view to publish for this pass: the previous one, untouched, when nothing but time-passing values moved
 * (same bytes downstream: no version); otherwise the new one, where every app and image whose own content did
 * not change keeps its earlier last_update (it says when the item last changed, not when it was converted).
 * The uptime leaves the view: held at the last change it would mislead; the caller reports it as a counter.
 */
export interface ChartRepoView {
  /**
   * the digest of what must differ for the view to count as changed (chartRepoContentKey): the store's ETags
   * name the content by it (the same on every replica); the key itself (megabytes) is not kept
   */
  content: string;
  value: ChartRepoStatus;
}

export function nextChartRepoView(prev: ChartRepoView | null, next: ChartRepoStatus): ChartRepoView {
  if (next.system && 'uptime' in next.system) {
    const { uptime: _uptime, ...system } = next.system;
    next = { ...next, system };
  }
  const content = digestOf([chartRepoContentKey(next)]);
  if (prev !== null && prev.content === content) return prev;
  if (prev !== null) {
    next = { ...next, last_update: next.last_update };
    if (next.apps) next.apps = keepItemTimes(prev.value.apps, next.apps);
    if (next.images) next.images = keepItemTimes(prev.value.images, next.images);
  }
  return { content, value: next };
}

function keepItemTimes<T extends object>(before: readonly T[] | undefined, now: T[]): T[] {
  if (!before || before.length === 0) return now;
  const times = new Map<string, unknown>();
  for (const item of before) {
    const t = (item as { last_update?: unknown }).last_update;
    if (t !== undefined) times.set(chartRepoContentKey(item), t);
  }
  if (times.size === 0) return now;
  return now.map((item) => {
    const t = times.get(chartRepoContentKey(item));
    return t === undefined ? item : { ...item, last_update: t };
  });
}
