/**
 * Where an answer's `data` holds a time at which this sidecar saw things, not what the sources said
 * (docs/api.md, ETags): a store's version and timestamp, an app's last_update, a component's last_check, the
 * Chart Repo's last_update and its items', a running Chart Repo app's duration and the image analyzer's
 * last_check held at the last content change. `*` is any key, `#` any list index. Only these paths: a
 * `duration` or `last_update` anywhere else is content.
 */
const SEEN_AT: readonly (readonly string[])[] = [
  ['version'], ['timestamp'],
  // one app; a user's apps; a page of apps
  ['last_update'], ['#', 'last_update'], ['items', '#', 'last_update'],
  ['app_states', '*', 'last_update'],
  ['components', '*', 'last_check'],
  ['chart_repo', 'last_update'],
  ['chart_repo', 'apps', '#', 'last_update'], ['chart_repo', 'apps', '#', 'processing', 'duration'],
  ['chart_repo', 'images', '#', 'last_update'],
  ['chart_repo', 'tasks', 'image_analyzer', 'last_check'],
];

const matches = (path: readonly string[], pattern: readonly string[]): boolean =>
  path.length === pattern.length && pattern.every((p, i) => p === path[i] || (p === '*' && !/^#\d/.test(path[i]!)) || (p === '#' && /^#\d/.test(path[i]!)));

/**
 * What an answer's body says, as its weak ETag names it: the body without the times things were seen at
 * (SEEN_AT), keys sorted. Two bodies a content-derived ETag names may differ in those alone.
 */
export function contentOf(text: string): string {
  const canonical = (v: unknown, path: string[]): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => canonical(x, [...path, `#${i}`]));
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const at = [...path, k];
      if (SEEN_AT.some((p) => matches(at, p))) continue;
      out[k] = canonical((v as Record<string, unknown>)[k], at);
    }
    return out;
  };
  try {
    const body = JSON.parse(text) as { data?: unknown };
    return JSON.stringify({ ...body, data: canonical(body.data, []) });
  } catch {
    return text;
  }
}
