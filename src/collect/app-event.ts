import * as v from 'valibot';
import { appKey, Id, isObj, type AppFlowState } from '../model/index.ts';
import type { AppEvent } from '../protocol.ts';
import { goDecodesTime, goRoundTripsTime, goTimeText } from '../model/go-time.ts';
import { appFlowFromState, renameDetailEntrances, type AppStateInput } from './app-flow.ts';
import { parseGoEntrances, statusEntrances, parseRuntimeEntrances, type GoEntrance } from './app-status.ts';
import type { UnknownStates } from './stage-table.ts';
import { clip } from './tasks.ts';
import { isFutureTime } from '../store/event-order.ts';

/** The largest app-service message we parse; anything bigger is dropped unread. */
export const MAX_EVENT_BYTES = 256 * 1024;

// free text is clipped as a polled row's is (docs/operations.md#limits), never a reason to lose the event: the
// message itself is bounded (MAX_EVENT_BYTES)
const Str = v.pipe(v.string(), v.transform((s) => clip(s)));

/**
 * One app-service state message (NATS subject os.application.*). Only what identifies the app and its
 * state is required; the rest is optional and bounded.
 */
const AppServiceEvent = v.object({
  eventID: v.optional(Id),
  // a time as the market's Go decoder reads it (30 February is no time: JavaScript's parser would roll it into
  // March), whose instant Go can write again: one past 9999 once in UTC would make every snapshot holding the
  // app undecodable for Go clients
  createTime: v.pipe(v.string(), v.maxLength(64), v.check(goDecodesTime, 'createTime is not a time'),
    v.check(goRoundTripsTime, 'createTime is out of range')),
  name: v.pipe(Id, v.nonEmpty('name is empty')),
  rawAppName: v.optional(Id),
  title: v.optional(Str),
  opID: v.optional(Id),
  opType: v.optional(Id),
  state: v.pipe(Id, v.nonEmpty('state is empty')),
  user: v.pipe(Id, v.nonEmpty('user is empty')),
  // (any length, as the market takes it: metadata.status clips it as it clips a row's, app-flow.ts statusMetadata)
  progress: v.optional(v.union([Str, v.number()])),
  marketSource: v.pipe(Id, v.nonEmpty('marketSource is empty')),
  reason: v.optional(Str),
  message: v.optional(Str),
  // (null: app-service is Go, which marshals a nil slice as null, and the market's decoder takes it as empty)
  // (more than the merge can place: metadata.status keeps at most the manifest's entries, app-status.ts)
  entranceStatuses: v.nullish(v.pipe(v.array(v.unknown()), v.transform((xs) => xs.slice(0, 256)))),
  sharedEntrances: v.nullish(v.array(v.unknown())),
});
type AppServiceEvent = v.InferOutput<typeof AppServiceEvent>;

/** `futureTime`: the createTime it sent lay beyond its arrival (plus skew) and was taken as its arrival. */
export type DecodedEvent = { ok: true; event: AppEvent; futureTime?: string } | { ok: false; reason: string };

/**
 * Raw message bytes -> an AppEvent for the store, through the same stage table as the polling collector.
 * `receivedMs`: when the message arrived, what a createTime beyond it (plus skew) is taken as.
 */
export function decodeAppEvent(data: Uint8Array, unknownStates?: UnknownStates, receivedMs = Date.now()): DecodedEvent {
  if (data.byteLength > MAX_EVENT_BYTES) return { ok: false, reason: `message over ${MAX_EVENT_BYTES} bytes` };
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed = v.safeParse(AppServiceEvent, raw, { abortPipeEarly: true });
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const key = issue.path?.map((p) => String(p.key)).join('.') ?? 'message';
    return { ok: false, reason: clip(`${key}: ${issue.message}`, 200) };
  }
  const e = parsed.output;
  // a time beyond its arrival would order the event after every poll and event to come (src/store/event-order.ts):
  // the event is kept, at the time it arrived, and counted
  if (!isFutureTime(Date.parse(goTimeText(e.createTime)!), receivedMs)) return { ok: true, event: appEventFrom(e, unknownStates) };
  return { ok: true, event: appEventFrom(e, unknownStates, receivedMs), futureTime: e.createTime };
}

/** `atMs`: the event time to take instead of its createTime (one that could not be trusted). */
function appEventFrom(e: AppServiceEvent, unknownStates?: UnknownStates, atMs?: number): AppEvent {
  const at = new Date(atMs ?? goTimeText(e.createTime)!).toISOString();
  const runtime = parseRuntimeEntrances(e.entranceStatuses ?? []);
  const input: AppStateInput = {
    user_id: e.user,
    source_id: e.marketSource,
    // events carry no catalog id: the store keeps the one the poll found (metadata.status.appid)
    app_id: '',
    app_name: e.name,
    raw_app_name: e.rawAppName ?? '',
    cfg_type: '',
    is_sys_app: false,
    title: e.title ?? '',
    icon: '',
    state: e.state,
    // events carry no versions: the store keeps the ones it has
    installed_version: '',
    target_version: '',
    reason: e.reason ?? '',
    message: e.message ?? '',
    progress: e.progress === undefined ? '' : String(e.progress),
    op_id: e.opID ?? '',
    op_type: e.opType ?? '',
    entrances: runtime.valid,
    manifest_entrances: [],
    runtime_entrances: runtime.positional,
    shared_entrances: e.sharedEntrances == null ? [] : parseGoEntrances(e.sharedEntrances).entrances,
    event_create_time: at,
    updated_at: at,
  };
  const app = appFlowFromState(input, [], { onUnknown: (s) => unknownStates?.note(s) });
  return { key: appKey(input), at, app, ...(e.eventID ? { id: e.eventID } : {}), ...(app === null ? { left: e.state } : {}) };
}

type Status = Record<string, unknown>;
const statusOf = (a: AppFlowState): Status | undefined => {
  const st = (a.metadata as { status?: unknown } | undefined)?.status;
  return isObj(st) ? st : undefined;
};

/** what an event always says (its absence means empty), and what it says only when it carries it */
const EVENT_SETS = ['state', 'progress', 'reason', 'message', 'updateTime', 'statusTime', 'lastTransitionTime', 'createTime'];
const EVENT_SETS_WHEN_SENT = ['title', 'rawAppName', 'opType', 'opID', 'sharedEntrances'];

/**
 * A pushed app state on top of the app the store holds, the way the market would show it after writing the
 * event to its row: the event's state, progress, reason, message, title (and times) over the row's status,
 * its entrance statuses merged by position into the row's manifest entrances; what the event does not carry
 * (catalog id, isSysApp, icon, versions, cfg_type) is kept.
 */
export function mergeAppEvent(held: AppFlowState | undefined, pushed: AppFlowState): AppFlowState {
  if (held === undefined) return pushed;
  const heldStatus = statusOf(held);
  const pushedStatus = statusOf(pushed) ?? {};
  const status: Status = { ...heldStatus };
  for (const k of EVENT_SETS) {
    if (pushedStatus[k] !== undefined) status[k] = pushedStatus[k];
    else delete status[k];
  }
  for (const k of EVENT_SETS_WHEN_SENT) {
    const x = pushedStatus[k];
    if (x !== undefined && x !== '') status[k] = x;
  }
  const runtime = (pushedStatus.entranceStatuses as GoEntrance[] | null | undefined) ?? [];
  const fromManifest = (held.metadata as { manifest_entrances?: unknown } | undefined)?.manifest_entrances === true;
  const manifest = fromManifest ? (heldStatus?.entranceStatuses as GoEntrance[] | null | undefined) ?? [] : [];
  status.entranceStatuses = statusEntrances(manifest, runtime);
  const merged: AppFlowState = {
    ...pushed,
    ...(pushed.stage_detail === undefined ? {} : { stage_detail: renameDetailEntrances(pushed.stage_detail, runtime, manifest) }),
    app_id: pushed.app_name,
    metadata: { ...held.metadata, ...pushed.metadata, status },
  };
  const version = pushed.version ?? held.version;
  const cfgType = pushed.cfg_type ?? held.cfg_type;
  if (version !== undefined) merged.version = version;
  if (cfgType !== undefined) merged.cfg_type = cfgType;
  return merged;
}
