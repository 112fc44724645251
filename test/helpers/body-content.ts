/** when values (not content): a store's version and timestamp, and the times at which things were seen */
const SEEN_AT = new Set(['last_update', 'last_check', 'uptime', 'duration']);


/**
 * What an answer's body says, as its weak ETag names it: the body without the times things were seen at (a
 * store's version and timestamp, an item's last_update / last_check, uptimes and durations), keys sorted.
 * Two bodies a content-derived ETag names may differ in those alone (docs/api.md, ETags).
 */
export function contentOf(text: string): string {
  const canonical = (v: unknown, top: boolean): unknown => {
    if (Array.isArray(v)) return v.map((x) => canonical(x, false));
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      if (SEEN_AT.has(k) || (top && (k === 'version' || k === 'timestamp'))) continue;
      out[k] = canonical((v as Record<string, unknown>)[k], false);
    }
    return out;
  };
  try {
    const body = JSON.parse(text) as { data?: unknown };
    return JSON.stringify({ ...body, data: canonical(body.data, true) });
  } catch {
    return text;
  }
}

