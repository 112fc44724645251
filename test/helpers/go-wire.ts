import * as v from 'valibot';
import { ChartRepoApp, ChartRepoImage, ChartRepoStatus, HydratorTask } from '../../src/model/chart-repo.ts';
import { GoTime } from '../../src/model/common.ts';
import {
  GoAppFlowState, GoComponentStatus, GoEnvelope, GoRuntimeSnapshot, GoSummary, GoTaskState, omitEmptyIssues,
} from '../../src/model/go-wire.ts';

const byKey = <S extends v.GenericSchema>(s: S) => v.optional(v.record(v.string(), s));

/**
 * The `data` of a change-stream `change` event. The stream is ours (Go has none), but each item it carries
 * is the snapshot's item, so it must decode with the same Go structs; so must the summary.
 */
const GoChangeEvent = v.object({
  timestamp: GoTime,
  upserts: v.object({ app_states: byKey(GoAppFlowState), tasks: byKey(GoTaskState), components: byKey(GoComponentStatus) }),
  chart_repo: v.optional(v.object({
    frame: v.optional(ChartRepoStatus),
    upserts: v.object({ apps: byKey(ChartRepoApp), images: byKey(ChartRepoImage), hydrator_tasks: byKey(HydratorTask) }),
  })),
  summary: GoSummary,
});
const GoItems = v.object({ upserts: GoChangeEvent.entries.upserts });

/** The check on items a test hands a fake collector: the apps, tasks and components a collector would send. */
export function expectGoWireItems(upserts: { app_states?: unknown[]; tasks?: unknown[]; components?: unknown[] }): void {
  const keyed = (items: unknown[] | undefined) => items && Object.fromEntries(items.map((x, i) => [String(i), x]));
  check(GoItems, { upserts: { app_states: keyed(upserts.app_states), tasks: keyed(upserts.tasks), components: keyed(upserts.components) } }, 'fixture');
}

/** `?view=summary` events: {version, timestamp, summary} */
const GoSummaryEvent = v.object({ timestamp: GoTime, summary: GoSummary });

/**
 * Every way `value` differs from what Go sends for `schema`: what a Go client fails on or reads as a zero
 * (a missing key, a fraction, a bad time), and an `omitempty` key sent with its zero value (Go leaves it out).
 * Empty when it fits.
 */
export function goWireIssues(schema: v.GenericSchema, value: unknown): string[] {
  const r = v.safeParse(schema, value);
  if (!r.success) {
    return r.issues.map((i) => {
      const path = i.path?.map((p) => String(p.key)).join('.') ?? '(root)';
      return `${path}: ${i.message} (got ${JSON.stringify(i.input)?.slice(0, 80)})`;
    });
  }
  return omitEmptyIssues(schema, value);
}

/** Go sends the app's name as `app_id` (the market's catalog id is `metadata.status.appid`). */
function appIdIssues(value: unknown): string[] {
  const o = (value ?? {}) as { data?: { app_states?: unknown }; app_states?: unknown; upserts?: { app_states?: unknown } };
  const apps = (o.data?.app_states ?? o.app_states ?? o.upserts?.app_states ?? {}) as Record<string, { app_id?: unknown; app_name?: unknown }>;
  return Object.entries(apps).filter(([, a]) => a.app_id !== a.app_name)
    .map(([k, a]) => `app_states.${k}.app_id: ${JSON.stringify(a.app_id)} is not the app's name ${JSON.stringify(a.app_name)}`);
}

function check(schema: v.GenericSchema, value: unknown, what: string): void {
  const lines = [...goWireIssues(schema, value), ...appIdIssues(value)];
  if (lines.length === 0) return;
  throw new Error(`a Go client would not decode this ${what} as Go sends it:\n  ${lines.slice(0, 10).join('\n  ')}`);
}

/**
 * The strict "Go client" check: decodes a snapshot (or a `{success, message, data}` envelope, as JSON text
 * or a value) with the schemas written from docs/go-wire.md, and throws with every misfit's path, as a Go
 * client decoding it with the market's structs would fail (or read a zero where a key is missing). Times
 * must be ones Go's decoder takes: RFC 3339 with a real date (no 30 February). An `omitempty` key present
 * with its zero value ("", 0, false, [], an empty map, Go's zero time) fails too: Go would have left it out.
 */
export function expectGoWire(body: unknown): void {
  const value = typeof body === 'string' ? JSON.parse(body) as unknown : body;
  const isEnvelope = value !== null && typeof value === 'object' && 'success' in value;
  if (isEnvelope) check(GoEnvelope, value, 'envelope');
  else check(GoRuntimeSnapshot, value, 'snapshot');
}

/**
 * The same check over every event a change-stream client received: each `snapshot` (the /state data, or the
 * summary view's {version, timestamp, summary}) and each `change`. `freshness` events carry no Go struct.
 */
export function expectGoWireEvents(events: readonly { event: string; data: string }[]): void {
  for (const e of events) {
    if (e.event !== 'snapshot' && e.event !== 'change') continue;
    const value = JSON.parse(e.data) as Record<string, unknown>;
    if ('app_states' in value) check(GoRuntimeSnapshot, value, `${e.event} event`);
    else if ('upserts' in value) check(GoChangeEvent, value, `${e.event} event`);
    else check(GoSummaryEvent, value, `${e.event} event`);
  }
}
