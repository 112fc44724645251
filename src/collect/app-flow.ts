import { appHealth, LIMITS, type AppFlowState, type AppStage, type Health, type TaskState } from '../model/index.ts';
import type { AppRow } from '../sources/market-rows.ts';
import { deriveStage, type EntranceStatus, type UnknownStates } from './stage-table.ts';
import {
  boundEntrances, iconAndTitle, parseGoEntrances, parseRuntimeEntrances, statusEntrances, toSecondUtc, type GoEntrance,
} from './app-status.ts';
import { clip } from './tasks.ts';
import { goInstantText, isSetGoInstant } from '../model/go-time.ts';

/**
 * One app's installation state, whatever the source (PostgreSQL row or NATS event), so both collectors
 * derive stage, health and metadata the same way.
 */
export interface AppStateInput {
  user_id: string;
  source_id: string;
  /** the market's catalog id (ua.app_id); '' when unknown (an event) */
  app_id: string;
  app_name: string;
  raw_app_name: string;
  cfg_type: string;
  is_sys_app: boolean;
  /** from ua.metadata (title picked from a locale map) */
  title: string;
  icon: string;
  /** raw app-service state; '' = none recorded */
  state: string;
  installed_version: string;
  target_version: string;
  reason: string;
  message: string;
  progress: string;
  op_id: string;
  op_type: string;
  /** valid runtime entrance statuses: what the stage table judges health by */
  entrances: EntranceStatus[];
  /** the manifest's entrance declarations (ua.entrances); empty for an event */
  manifest_entrances: GoEntrance[];
  /** the runtime list by position (status_entrances / entranceStatuses) */
  runtime_entrances: GoEntrance[];
  shared_entrances: GoEntrance[];
  /** when app-service emitted this state (event_create_time / NATS createTime), if known */
  event_create_time?: string;
  /** when this state was recorded: becomes last_update */
  updated_at: string;
}

export interface AppFlowCounters {
  rows: number;
  apps: number;
  /** rows without an installation (no state, no active task) or in a not-installed state */
  not_installed: number;
  unknown_state: number;
  bad_entrances: number;
}

/** Task types that say what an app is going through (cancel does not: it is about another task). */
const OVERRIDE_STAGE: Partial<Record<TaskState['type'], AppStage>> = {
  install: 'installing', clone: 'installing', upgrade: 'upgrading', uninstall: 'uninstalling',
};

/** Active tasks by user and app name: tasks carry no source, so they match every source's row. */
export class ActiveTasks {
  private readonly byApp = new Map<string, TaskState[]>();

  constructor(tasks: Iterable<TaskState>) {
    for (const t of tasks) {
      if (t.status !== 'pending' && t.status !== 'running') continue;
      const k = ActiveTasks.key(t.user_id ?? '', t.app_name);
      const list = this.byApp.get(k);
      if (list) list.push(t);
      else this.byApp.set(k, [t]);
    }
  }

  private static key(user: string, app: string): string {
    return `${user}\u0000${app}`;
  }

  of(user: string, app: string): readonly TaskState[] {
    return this.byApp.get(ActiveTasks.key(user, app)) ?? [];
  }
}

/** The newest active task of a stage-bearing type with the given status. */
function overridingTask(tasks: readonly TaskState[], status: 'pending' | 'running'): TaskState | undefined {
  let best: TaskState | undefined;
  for (const t of tasks) {
    if (t.status !== status || OVERRIDE_STAGE[t.type] === undefined) continue;
    // (as times: Go's text trims trailing zeros, so text order is not time order)
    if (best === undefined || Date.parse(t.created_at) > Date.parse(best.created_at)) best = t;
  }
  return best;
}

/**
 * The Go module's task override: a running install/clone, upgrade or uninstall task forces its stage;
 * a pending one does so only while the app looks fetching or running. Health becomes unknown.
 */
function applyTaskOverride(
  stage: AppStage, health: Health, tasks: readonly TaskState[],
): { stage: AppStage; health: Health; task?: TaskState } {
  const running = overridingTask(tasks, 'running');
  if (running) return { stage: OVERRIDE_STAGE[running.type]!, health: 'unknown', task: running };
  if (stage === 'fetching' || stage === 'running') {
    const pending = overridingTask(tasks, 'pending');
    if (pending) return { stage: OVERRIDE_STAGE[pending.type]!, health: 'unknown', task: pending };
  }
  return { stage, health };
}

/**
 * metadata.status exactly as the market builds its AppStateLatestData.status (docs/go-wire.md). Additive:
 * `opID`, and `createTime` (the event time to the millisecond, which orders pushed events against polls).
 */
export function statusMetadata(s: AppStateInput): Record<string, unknown> {
  const status: Record<string, unknown> = { name: s.app_name, rawAppName: s.raw_app_name };
  if (s.app_id !== '') status.appid = s.app_id;
  status.isSysApp = s.is_sys_app;
  if (s.user_id !== '') status.owner = s.user_id;
  if (s.icon !== '') status.icon = s.icon;
  if (s.source_id !== '') status.source = s.source_id;
  status.title = s.title;
  status.state = s.state;
  const at = toSecondUtc(s.event_create_time);
  status.updateTime = at;
  status.statusTime = at;
  status.lastTransitionTime = at;
  if (s.progress !== '') status.progress = clip(s.progress, 32);
  if (s.op_type !== '') status.opType = s.op_type;
  if (s.message !== '') status.message = clip(s.message, 1024);
  if (s.reason !== '') status.reason = clip(s.reason, 1024);
  status.entranceStatuses = statusEntrances(s.manifest_entrances, s.runtime_entrances);
  if (s.shared_entrances.length > 0) status.sharedEntrances = s.shared_entrances;
  if (s.op_id !== '') status.opID = s.op_id;
  if (s.event_create_time !== undefined) status.createTime = s.event_create_time;
  return status;
}

function stageDetail(s: AppStateInput, down: readonly EntranceStatus[], task: TaskState | undefined): string {
  const state = s.state.trim();
  let detail = state === '' ? 'no state' : state;
  if (s.progress !== '') detail += ` (progress ${s.progress})`;
  for (const e of down) detail += entranceClause(shownName(s, e), e.state);
  if (task) detail += taskClause(task);
  return clip(detail, LIMITS.text);
}

/** How stage_detail names the task that forces the stage. */
const taskClause = (task: TaskState): string => `; ${task.type} task ${task.task_id} ${task.status}`;

/**
 * The task override on an app a pushed event built (it knows no tasks): a running upgrade keeps the app
 * upgrading between polls, as the next poll would show it, instead of flipping it for one interval.
 */
export function withTaskOverride(app: AppFlowState, tasks: readonly TaskState[]): AppFlowState {
  const { stage, health, task } = applyTaskOverride(app.stage, appHealth(app), tasks);
  if (!task) return app;
  return {
    ...app, stage, health, stage_task: task.task_id,
    stage_detail: clip((app.stage_detail ?? '') + taskClause(task), LIMITS.text),
    stage_since: task.started_at ?? task.created_at,
  };
}

/** How stage_detail says that an entrance is not running. */
const entranceClause = (name: string, state: string): string => `; entrance ${name} is ${state === '' ? 'not reported' : state}`;

/**
 * The name a reader sees for a runtime entrance in metadata.status.entranceStatuses: with manifest entrances
 * the market shows the manifest's entry at the runtime entry's place (by position, not by name).
 */
function shownName(s: AppStateInput, e: EntranceStatus): string {
  return (e.at === undefined ? undefined : s.manifest_entrances[e.at]?.name) ?? e.name;
}

/**
 * A pushed event's stage_detail once its runtime entrances are merged by position into the held manifest
 * entrances (mergeAppEvent): each entrance it names by its runtime name is named as the merge shows it.
 */
export function renameDetailEntrances(detail: string, runtime: readonly GoEntrance[], manifest: readonly GoEntrance[]): string {
  let out = detail;
  runtime.forEach((r, i) => {
    const shown = manifest[i]?.name;
    if (shown === undefined || shown === r.name || r.state === undefined) return;
    out = out.replace(entranceClause(r.name, r.state), entranceClause(shown, r.state));
  });
  return clip(out, LIMITS.text);
}

/**
 * One app's view, or null when it is not an install: no state and no active task, or a not-installed
 * state (uninstalled, a canceled install) with no active task. Unknown states are noted in `unknown`.
 */
export function appFlowFromState(
  s: AppStateInput, tasks: readonly TaskState[], unknown?: { onUnknown(state: string): void },
): AppFlowState | null {
  const active = tasks.length > 0;
  const state = s.state.trim();
  if (state === '' && !active) return null;
  const derived = state === ''
    ? { stage: 'fetching' as AppStage, health: 'unknown' as Health, inView: true, known: true, downEntrances: [] }
    : deriveStage(state, s.entrances);
  if (!derived.known) unknown?.onUnknown(state);
  if (!derived.inView && !active) return null;
  const { stage, health, task } = applyTaskOverride(derived.stage, derived.health, tasks);
  const version = (stage === 'installing' || stage === 'upgrading') && s.target_version !== ''
    ? s.target_version
    : s.installed_version;
  const app: AppFlowState = {
    // Go sends the app's name here; the catalog id is metadata.status.appid
    app_id: s.app_name,
    app_name: s.app_name,
    user_id: s.user_id,
    source_id: s.source_id,
    stage,
    stage_detail: stageDetail(s, derived.downEntrances, task),
    health,
    last_update: s.updated_at,
    // manifest_entrances (additive): the status entrances are the manifest's, so a pushed event merges its
    // runtime list into them by position (app-event.ts mergeAppEvent)
    metadata: s.manifest_entrances.length > 0
      ? { status: statusMetadata(s), manifest_entrances: true }
      : { status: statusMetadata(s) },
    // when it entered this stage, from the market's own record: the task that forces the stage, else the
    // app-service event time (the store keeps the earlier value while the stage stays the same)
    stage_since: task ? task.started_at ?? task.created_at : s.event_create_time ?? s.updated_at,
  };
  if (version !== '') app.version = version;
  if (s.cfg_type !== '') app.cfg_type = s.cfg_type;
  if (task) app.stage_task = task.task_id;
  return app;
}

/** A user_applications row (with its state columns) as a source-neutral AppStateInput. */
function inputFromRow(row: AppRow): { input: AppStateInput; badEntrances: number } {
  const runtime = parseRuntimeEntrances(row.status_entrances);
  const manifestAll = parseGoEntrances(row.entrances, { keepPlace: true });
  const sharedAll = parseGoEntrances(row.shared_entrances);
  // bounded so one app cannot swell the snapshot; what is left out counts as bad entrances
  const manifest = { ...boundEntrances(manifestAll.entrances), bad: manifestAll.bad };
  const shared = { ...boundEntrances(sharedAll.entrances), bad: sharedAll.bad };
  const meta = iconAndTitle(row.metadata);
  const input: AppStateInput = {
    user_id: row.user_id,
    source_id: row.source_id,
    app_id: row.app_id,
    app_name: row.app_name,
    raw_app_name: row.app_raw_name,
    cfg_type: row.manifest_type,
    is_sys_app: row.is_sys_app,
    title: meta.title,
    icon: meta.icon,
    // as the row has it (Go sends uas.state untouched; a hostile one clipped as all free text); the stage is
    // derived from it trimmed
    state: clip(row.state ?? ''),
    installed_version: row.installed_version,
    target_version: row.target_version,
    reason: row.reason,
    message: row.message,
    progress: row.progress,
    op_id: clip(row.op_id),
    op_type: clip(row.op_type),
    entrances: runtime.valid,
    manifest_entrances: manifest.list,
    runtime_entrances: runtime.positional,
    shared_entrances: shared.list,
    // (a database time past what a Go client decodes — after 9999, before year 1 — is Go's zero time)
    updated_at: goInstantText(row.state_updated_at ?? row.app_updated_at),
  };
  if (row.event_create_time !== null && isSetGoInstant(row.event_create_time.getTime())) input.event_create_time = row.event_create_time.toISOString();
  return {
    input,
    badEntrances: runtime.bad + manifest.bad + manifest.cut + shared.bad + shared.cut + (meta.bad ? 1 : 0),
  };
}

/** One joined row -> its app (null: not an install), with the active tasks of its user and app. */
function appFlowFromRow(
  row: AppRow, active: ActiveTasks, unknown?: { onUnknown(state: string): void },
): { app: AppFlowState | null; badEntrances: number } {
  const { input, badEntrances } = inputFromRow(row);
  return { app: appFlowFromState(input, active.of(input.user_id, input.app_name), unknown), badEntrances };
}

/** What a pass counts of one row it read. */
export interface RowCounts {
  /** it gave an app (else: not an install) */
  shown: boolean;
  /** its state is none the stage table knows */
  unknownState: boolean;
  badEntrances: number;
}

/** One joined row read: its app (null: not an install), and what a pass counts of it. */
export interface RowRead extends RowCounts {
  app: AppFlowState | null;
}

/** The counters of rows read (AppFlowMemory counts every row it knows, read this pass or before). */
export function countRows(rows: { forEach(count: (r: RowCounts) => void): void }): Omit<AppFlowCounters, 'rows'> {
  const counters = { apps: 0, not_installed: 0, unknown_state: 0, bad_entrances: 0 };
  // (forEach: a Map's iterator allocates per entry, and AppFlowMemory counts every known row each pass)
  rows.forEach((r) => {
    if (r.shown) counters.apps += 1;
    else counters.not_installed += 1;
    if (r.unknownState) counters.unknown_state += 1;
    counters.bad_entrances += r.badEntrances;
  });
  return counters;
}

/**
 * Joined rows + the active tasks -> the app_states listing of one read (AppFlowMemory reads every pass's rows
 * here): the apps, each row's read in order, their counters, and the unknown states `unknownStates` had not seen.
 */
export function normalizeAppFlow(
  rows: readonly AppRow[], tasks: ActiveTasks | Iterable<TaskState>, unknownStates?: UnknownStates,
): { items: AppFlowState[]; reads: RowRead[]; counters: AppFlowCounters; newUnknownStates: string[] } {
  const active = tasks instanceof ActiveTasks ? tasks : new ActiveTasks(tasks);
  const newUnknownStates = new Set<string>();
  let unknownState = false;
  const unknown = {
    onUnknown(state: string): void {
      unknownState = true;
      if (unknownStates?.note(state) ?? true) newUnknownStates.add(state);
    },
  };
  const items: AppFlowState[] = [];
  const reads: RowRead[] = [];
  for (const row of rows) {
    unknownState = false;
    const { app, badEntrances } = appFlowFromRow(row, active, unknown);
    reads.push({ app, shown: app !== null, unknownState, badEntrances });
    if (app !== null) items.push(app);
  }
  return { items, reads, counters: { rows: rows.length, ...countRows(reads) }, newUnknownStates: [...newUnknownStates] };
}
