/**
 * The snapshot as a Go client of the market's runtime module decodes it (docs/go-wire.md), as valibot schemas:
 * what the sidecar guarantees on the wire. Keys Go always sends are required; `omitempty` keys optional, and
 * when present never their zero value (omitEmptyIssues); integer fields integers; every time RFC 3339 (or Go's
 * zero time). Our additive keys are allowed (valibot objects accept unknown keys). Used by the tests'
 * Go-client check on every snapshot they produce.
 */
import * as v from 'valibot';
import { ChartRepoStatus } from './chart-repo.ts';
import { GoInt, GoTime, isObj } from './common.ts';
import { goDecodesTime, isGoZeroTime } from './go-time.ts';

const optStr = v.optional(v.string());
const optBool = v.optional(v.boolean());

/** updateTime/statusTime/lastTransitionTime: RFC 3339 to the second, in UTC, or "" for the zero time */
const StatusTime = v.union([
  v.literal(''),
  v.pipe(v.string(), v.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, 'not UTC RFC 3339 to the second'), v.check(goDecodesTime, 'not a time a Go client decodes')),
]);

/** An entrance of metadata.status: the manifest's declaration merged with its runtime status. */
export const GoEntrance = v.object({
  name: v.string(),
  port: GoInt,
  invisible: v.boolean(),
  id: optStr,
  host: optStr,
  icon: optStr,
  title: optStr,
  authLevel: optStr,
  url: optStr,
  openMethod: optStr,
  windowPushState: optBool,
  skip: optBool,
  state: optStr,
  // a string in the market's entrance, kept as the row has it
  statusTime: optStr,
  reason: optStr,
});

/** metadata.status: the market's AppStateLatestData.status. */
export const GoAppStatus = v.object({
  name: v.string(),
  rawAppName: v.string(),
  appid: optStr,
  isSysApp: v.boolean(),
  owner: optStr,
  icon: optStr,
  source: optStr,
  title: v.string(),
  state: v.string(),
  updateTime: StatusTime,
  statusTime: StatusTime,
  lastTransitionTime: StatusTime,
  progress: optStr,
  opType: optStr,
  message: optStr,
  reason: optStr,
  // Go's list is null or has entries (an empty slice of the market's is nil)
  entranceStatuses: v.nullable(v.pipe(v.array(GoEntrance), v.minLength(1))),
  sharedEntrances: v.optional(v.array(GoEntrance)),
});

export const GoAppFlowState = v.object({
  app_id: v.string(),
  app_name: v.string(),
  user_id: v.string(),
  source_id: v.string(),
  stage: v.string(),
  stage_detail: optStr,
  version: optStr,
  cfg_type: optStr,
  health: optStr,
  last_update: GoTime,
  // Go's metadata is a free map; ours always carries the status the Go dashboards read
  metadata: v.object({ status: GoAppStatus }),
});

export const GoTaskState = v.object({
  task_id: v.string(),
  type: v.string(),
  status: v.string(),
  app_name: v.string(),
  user_id: optStr,
  op_id: optStr,
  progress: v.optional(v.pipe(GoInt, v.minValue(0), v.maxValue(100))),
  created_at: GoTime,
  started_at: v.optional(GoTime),
  completed_at: v.optional(GoTime),
  result: optStr,
  error_msg: optStr,
  metadata: v.optional(v.record(v.string(), v.unknown())),
});

const optInt = v.optional(GoInt);
/** Go duration strings as time.Duration.String() writes them: "1m30s", "150ms", "0s" */
const GoDurationString = v.pipe(v.string(), v.regex(/^-?(\d+(\.\d+)?(h|m|s|ms|µs|us|ns))+$|^0s$/));

/**
 * The Go metric keys of each component we send them for, typed as Go sends them. Required: the keys our
 * sources always tell (Go always sends them too), so a collector that stopped sending one fails the check;
 * optional: the keys a sidecar cannot know (never sent: README) and the syncer's last_sync_time (sent when
 * the catalog has a row).
 */
export const GO_COMPONENT_METRICS = {
  cache: v.object({
    total_apps: GoInt, total_app_info_latest: GoInt, total_app_state_latest: GoInt,
    total_app_info_pending: GoInt, total_users: GoInt, total_sources: GoInt, is_running: optBool,
  }),
  hydrator: v.object({
    total_tasks_processed: optInt, total_tasks_succeeded: optInt, total_tasks_failed: optInt,
    active_tasks_count: optInt, completed_tasks_count: GoInt, failed_tasks_count: GoInt, queue_length: GoInt,
    // Go's slices (a sidecar cannot know them: never sent, but never of another type either)
    active_tasks: v.optional(v.array(v.unknown())), recent_completed_tasks: v.optional(v.array(v.unknown())),
    recent_failed_tasks: v.optional(v.array(v.unknown())), workers: v.optional(v.array(v.unknown())),
    is_running: optBool, enabled: optBool,
  }),
  syncer: v.object({
    is_running: optBool, sync_interval: v.optional(GoDurationString), last_sync_time: v.optional(GoTime),
    last_sync_success: v.optional(GoTime), last_sync_error: optStr, current_step: optStr,
    current_step_index: optInt, total_steps: optInt, current_source: optStr, total_syncs: optInt,
    success_count: optInt, failure_count: optInt, consecutive_failures: optInt,
    last_sync_duration: v.optional(GoDurationString), last_synced_app_count: optInt,
    // Go's float64, 0-100
    success_rate: v.optional(v.pipe(v.number(), v.finite())),
    next_sync_time: v.optional(GoTime),
    // Go's *SyncDetails (omitempty): an object when set
    last_sync_details: v.optional(v.record(v.string(), v.unknown())),
    step_count: optInt, steps: v.optional(v.array(v.string())), enabled: optBool,
  }),
  task_module: v.object({ pending_tasks: GoInt, running_tasks: GoInt, instance_id: optStr }),
} as const;

/** The status words Go's components use (docs/go-wire.md): the syncer's three, the hydrator's two, the others always running. */
export const GO_COMPONENT_STATUSES = {
  cache: ['running'], hydrator: ['running', 'stopped'], syncer: ['running', 'stopped', 'degraded'], task_module: ['running'],
} as const satisfies Record<keyof typeof GO_COMPONENT_METRICS, readonly [string, ...string[]]>;

/**
 * Go's own components always have metrics; ours too, but for one whose source was never read (a value we cannot
 * know is left out, never invented). A rule between two keys: no JSON Schema for the document, a check for the tests.
 */
const metricsWhenHealthy = (c: { healthy: boolean; metrics?: unknown }) => !c.healthy || c.metrics !== undefined;
const HAS_NO_METRICS = 'a healthy Go component has metrics';
const componentEntries = { healthy: v.boolean(), last_check: GoTime, message: optStr };

// each of Go's components: its name, its status words and its metrics, as structure the OpenAPI converter publishes
function goComponent<N extends keyof typeof GO_COMPONENT_METRICS & keyof typeof GO_COMPONENT_STATUSES>(name: N) {
  return v.pipe(v.object({
    name: v.literal(name), status: v.picklist(GO_COMPONENT_STATUSES[name]), metrics: v.optional(GO_COMPONENT_METRICS[name]), ...componentEntries,
  }), v.check((c) => metricsWhenHealthy(c as { healthy: boolean; metrics?: unknown }), HAS_NO_METRICS));
}
export const GoCacheComponent = goComponent('cache');
export const GoHydratorComponent = goComponent('hydrator');
export const GoSyncerComponent = goComponent('syncer');
export const GoTaskModuleComponent = goComponent('task_module');

/** Go's components by name (the keys of the snapshot's `components`). */
const GO_COMPONENTS = {
  cache: GoCacheComponent, hydrator: GoHydratorComponent, syncer: GoSyncerComponent, task_module: GoTaskModuleComponent,
} as const;

/**
 * A component, whatever its name: Go's free metrics map. One of Go's names is held to that component's schema
 * (GO_COMPONENTS), so a lone component checks as strictly as one in the snapshot's map.
 */
export const GoComponentStatus = v.pipe(
  v.object({
    name: v.string(),
    healthy: v.boolean(),
    status: v.string(),
    metrics: v.optional(v.record(v.string(), v.unknown())),
    last_check: GoTime,
    message: optStr,
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const schema = GO_COMPONENTS[dataset.value.name as keyof typeof GO_COMPONENTS];
    if (!schema) return;
    const r = v.safeParse(schema, dataset.value);
    if (!r.success) {
      const issue = r.issues[0];
      addIssue({ message: `${dataset.value.name} ${issue.path?.map((p) => String(p.key)).join('.') ?? ''}: ${issue.message}` });
    }
  }),
);

/** Each map entry under the key Go gives it: an app's `user_id:source_id:app_name`, a task's id, a component's name. */
const keyedAs = <T>(keyOf: (value: T) => string) => v.rawCheck<Record<string, T>>(({ dataset, addIssue }) => {
  if (!dataset.typed) return;
  for (const [key, value] of Object.entries(dataset.value)) {
    if (keyOf(value) !== key) addIssue({ message: `key ${JSON.stringify(key)} is not ${JSON.stringify(keyOf(value))}` });
  }
});

/**
 * The snapshot's `components`, by name: each of Go's under its own schema (its status words, its metric keys
 * typed), any other as GoComponentStatus. objectWithRest rather than a record with a custom check, so that the
 * OpenAPI document states it too.
 */
export const GoComponents = v.pipe(
  v.objectWithRest(
    {
      cache: v.optional(GoCacheComponent), hydrator: v.optional(GoHydratorComponent),
      syncer: v.optional(GoSyncerComponent), task_module: v.optional(GoTaskModuleComponent),
    },
    GoComponentStatus,
  ),
  keyedAs((c) => c.name),
);

const Count = GoInt;
export const GoSummary = v.object({
  total_apps: Count, total_tasks: Count, pending_tasks: Count, running_tasks: Count, completed_tasks: Count,
  failed_tasks: Count, healthy_apps: Count, unhealthy_apps: Count, active_components: Count,
});

export const GoRuntimeSnapshot = v.object({
  timestamp: GoTime,
  app_states: v.pipe(v.record(v.string(), GoAppFlowState), keyedAs((a) => `${a.user_id}:${a.source_id}:${a.app_name}`)),
  tasks: v.pipe(v.record(v.string(), GoTaskState), keyedAs((t) => t.task_id)),
  components: GoComponents,
  chart_repo: v.optional(ChartRepoStatus),
  summary: GoSummary,
});

export const GoEnvelope = v.object({
  success: v.boolean(),
  message: v.string(),
  data: v.optional(v.nullable(GoRuntimeSnapshot)),
});

/**
 * The parts of a valibot schema omitEmptyIssues walks (a pipe carries its root schema's own): the fields of
 * valibot's schema objects, read through a cast, so valibot is pinned exactly in package.json.
 */
interface WalkedSchema {
  type: string;
  entries?: Record<string, WalkedSchema>;
  rest?: WalkedSchema;
  wrapped?: WalkedSchema;
  item?: WalkedSchema;
  value?: WalkedSchema;
}


/**
 * Go's zero value for a key of this schema: "", 0, false, an empty slice; for a time (GoTime) the zero
 * instant however it is spelled (`0001-01-01T00:00:00.000Z`, `…+00:00`: Go's IsZero); an empty map for a
 * map (a record). A struct (object) is never empty to `omitempty`.
 */
function isGoZero(schema: WalkedSchema, x: unknown): boolean {
  if (x === '' || x === 0 || x === false) return true;
  if (schema === (GoTime as unknown) && typeof x === 'string') return isGoZeroTime(x);
  if (Array.isArray(x)) return x.length === 0;
  return schema.type === 'record' && isObj(x) && Object.keys(x).length === 0;
}

/**
 * What a schema's presence rules cannot say: an `omitempty` key (an optional entry of these schemas) that is
 * present with its zero value, which Go would have left out. Walks `value` along `schema` (objects, arrays,
 * records, optional and nullable wrappers); returns one line per such key, with its path.
 */
export function omitEmptyIssues(schema: v.GenericSchema, value: unknown): string[] {
  const out: string[] = [];
  const join = (path: string, k: string | number) => (path === '' ? String(k) : `${path}.${k}`);
  const walk = (s: WalkedSchema, x: unknown, path: string): void => {
    if (x === undefined || x === null) return;
    switch (s.type) {
      case 'optional': case 'nullable': case 'nullish':
        walk(s.wrapped!, x, path);
        return;
      case 'array':
        if (Array.isArray(x)) x.forEach((item, i) => walk(s.item!, item, join(path, i)));
        return;
      case 'record':
        if (isObj(x)) for (const [k, item] of Object.entries(x)) walk(s.value!, item, join(path, k));
        return;
      case 'object_with_rest':
        // Go's map of components: every value as the component in general (a named one's metrics are Go's map,
        // where a zero is sent, not omitted)
        if (isObj(x)) for (const [k, item] of Object.entries(x)) walk(s.rest!, item, join(path, k));
        return;
      case 'object':
        if (!isObj(x)) return;
        for (const [k, entry] of Object.entries(s.entries!)) {
          if (!(k in x)) continue;
          const at = join(path, k);
          if (entry.type === 'optional' && isGoZero(entry.wrapped!, x[k])) {
            out.push(`${at}: an omitempty key sent with its zero value ${JSON.stringify(x[k])}`);
          }
          walk(entry, x[k], at);
        }
    }
  };
  walk(schema as unknown as WalkedSchema, value, '');
  return out;
}
