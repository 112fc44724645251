import * as v from 'valibot';
import { appKey, Id, LIMITS } from '../model/index.ts';
import type { AppEvent } from '../protocol.ts';
import { appFlowFromState, parseEntrances, type AppStateInput } from './app-flow.ts';
import type { UnknownStates } from './stage-table.ts';
import { clip } from './tasks.ts';

/** The largest app-service message we parse; anything bigger is dropped unread. */
export const MAX_EVENT_BYTES = 256 * 1024;

const Str = v.pipe(v.string(), v.maxLength(LIMITS.text));

/**
 * One app-service state message (NATS subject os.application.*). Only what identifies the app and its
 * state is required; the rest is optional and bounded.
 */
export const AppServiceEvent = v.object({
  eventID: v.optional(Id),
  createTime: v.pipe(v.string(), v.maxLength(64), v.check((s) => !Number.isNaN(Date.parse(s)), 'createTime is not a time')),
  name: v.pipe(Id, v.nonEmpty('name is empty')),
  rawAppName: v.optional(Id),
  title: v.optional(Str),
  opID: v.optional(Id),
  opType: v.optional(Id),
  state: v.pipe(Id, v.nonEmpty('state is empty')),
  user: v.pipe(Id, v.nonEmpty('user is empty')),
  progress: v.optional(v.union([v.pipe(v.string(), v.maxLength(32)), v.number()])),
  marketSource: v.pipe(Id, v.nonEmpty('marketSource is empty')),
  reason: v.optional(Str),
  message: v.optional(Str),
  entranceStatuses: v.optional(v.pipe(v.array(v.unknown()), v.maxLength(256))),
  sharedEntrances: v.optional(v.array(v.unknown())),
});
export type AppServiceEvent = v.InferOutput<typeof AppServiceEvent>;

export type DecodedEvent = { ok: true; event: AppEvent } | { ok: false; reason: string };

/** Raw message bytes -> an AppEvent for the store, through the same stage table as the polling collector. */
export function decodeAppEvent(data: Uint8Array, unknownStates?: UnknownStates): DecodedEvent {
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
  return { ok: true, event: appEventFrom(parsed.output, unknownStates) };
}

export function appEventFrom(e: AppServiceEvent, unknownStates?: UnknownStates): AppEvent {
  const at = new Date(e.createTime).toISOString();
  const input: AppStateInput = {
    user_id: e.user,
    source_id: e.marketSource,
    app_id: e.rawAppName || e.name,
    app_name: e.name,
    cfg_type: '',
    state: e.state.trim(),
    // events carry no versions: the store keeps the ones it has
    installed_version: '',
    target_version: '',
    reason: e.reason ?? '',
    message: e.message ?? '',
    progress: e.progress === undefined ? '' : String(e.progress),
    op_id: e.opID ?? '',
    op_type: e.opType ?? '',
    entrances: parseEntrances(e.entranceStatuses ?? []).entrances,
    event_create_time: at,
    updated_at: at,
  };
  const app = appFlowFromState(input, [], { onUnknown: (s) => unknownStates?.note(s) });
  return { key: appKey(input), at, app, ...(e.eventID ? { id: e.eventID } : {}) };
}
