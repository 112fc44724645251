/**
 * metadata.status as the market builds it (its AppStateLatestData.status) from one row of
 * user_applications JOIN user_application_states, and the entrance merge by position. docs/go-wire.md
 * "metadata.status". Pure: rows and events in, plain objects out.
 */
import { LIMITS, isObj } from '../model/index.ts';
import { isSetGoInstant } from '../model/go-time.ts';
import type { EntranceStatus } from './stage-table.ts';
import { clip } from './tasks.ts';

/** The market's entrance object: name, port and invisible always; the rest only when set. */
export interface GoEntrance {
  name: string;
  port: number;
  invisible: boolean;
  id?: string;
  host?: string;
  icon?: string;
  title?: string;
  authLevel?: string;
  url?: string;
  openMethod?: string;
  windowPushState?: boolean;
  skip?: boolean;
  state?: string;
  statusTime?: string;
  reason?: string;
}

const ENTRANCE_STRINGS = ['id', 'host', 'icon', 'title', 'authLevel', 'url', 'openMethod'] as const;
const ENTRANCE_BOOLS = ['windowPushState', 'skip'] as const;
/** the runtime fields an entrance takes from status_entrances */
const RUNTIME_FIELDS = ['state', 'statusTime', 'reason'] as const;
/** a manifest lists a handful; this bounds a hostile one */
const MAX_ENTRANCES = 64;
/** serialized size of one entrance list in metadata.status: entries past it are left out */
const MAX_ENTRANCES_BYTES = 16 * 1024;

type Obj = Record<string, unknown>;

/** JSONB arrives parsed, or as JSON text from a driver without the jsonb parser. */
function jsonValue(raw: unknown): { value: unknown; bad: boolean } {
  if (typeof raw !== 'string') return { value: raw, bad: false };
  try {
    return { value: JSON.parse(raw), bad: false };
  } catch {
    return { value: undefined, bad: true };
  }
}

/** A JSONB array; a non-array counts as one bad value. */
function jsonArray(raw: unknown): { items: unknown[]; bad: number } {
  const { value, bad } = jsonValue(raw);
  if (bad) return { items: [], bad: 1 };
  if (value === null || value === undefined) return { items: [], bad: 0 };
  if (!Array.isArray(value)) return { items: [], bad: 1 };
  return { items: value.slice(0, MAX_ENTRANCES), bad: Math.max(0, value.length - MAX_ENTRANCES) };
}

/**
 * One declared entrance in Go's shape. Fields of the wrong type are left out (Go could not decode them);
 * a non-integer port becomes 0. Non-objects are not entrances (undefined). `statusTime` is a string in the
 * market's entrance (the row's text is kept as it is, like every other field: docs/go-wire.md).
 */
function goEntrance(raw: unknown): GoEntrance | undefined {
  if (!isObj(raw)) return undefined;
  const port = raw.port;
  const e: GoEntrance = {
    name: typeof raw.name === 'string' ? clip(raw.name, LIMITS.id) : '',
    port: typeof port === 'number' && Number.isSafeInteger(port) ? port : 0,
    invisible: raw.invisible === true,
  };
  for (const k of ENTRANCE_STRINGS) {
    const x = raw[k];
    if (typeof x === 'string' && x !== '') e[k] = clip(x, 1024);
  }
  for (const k of ENTRANCE_BOOLS) if (raw[k] === true) e[k] = true;
  if (typeof raw.state === 'string' && raw.state !== '') e.state = clip(raw.state, LIMITS.id);
  if (typeof raw.statusTime === 'string' && raw.statusTime !== '') e.statusTime = clip(raw.statusTime, 64);
  if (typeof raw.reason === 'string' && raw.reason !== '') e.reason = clip(raw.reason, 256);
  return e;
}

/** A placeholder for an item that is no entrance, keeping the list's positions for the merge. */
const NO_ENTRANCE: GoEntrance = { name: '', port: 0, invisible: false };

/**
 * A JSONB list of entrances in Go's shape; items that are not objects are counted, and dropped, or with
 * `keepPlace` (the manifest list, merged by position with the runtime one) kept as an empty entrance so that
 * every later entrance still meets its own runtime entry.
 */
export function parseGoEntrances(raw: unknown, opts: { keepPlace?: boolean } = {}): { entrances: GoEntrance[]; bad: number } {
  const { items, bad } = jsonArray(raw);
  const entrances: GoEntrance[] = [];
  let dropped = bad;
  for (const item of items) {
    const e = goEntrance(item);
    if (e === undefined) dropped += 1;
    if (e !== undefined) entrances.push(e);
    else if (opts.keepPlace) entrances.push({ ...NO_ENTRANCE });
  }
  return { entrances, bad: dropped };
}

/**
 * status_entrances / entranceStatuses: the runtime list kept by position (a bad item keeps its place with
 * empty runtime fields, so the merge by position stays aligned) and the valid ones for the stage table.
 */
export function parseRuntimeEntrances(raw: unknown): { positional: GoEntrance[]; valid: EntranceStatus[]; bad: number } {
  const { items, bad } = jsonArray(raw);
  const positional: GoEntrance[] = [];
  const valid: EntranceStatus[] = [];
  let dropped = bad;
  for (const item of items) {
    const e = goEntrance(item);
    positional.push(e ?? { ...NO_ENTRANCE });
    const r = item as Obj | null;
    if (e === undefined || typeof r?.name !== 'string' || typeof r.state !== 'string'
      || r.name.length > LIMITS.id || r.state.length > LIMITS.id) {
      dropped += 1;
      continue;
    }
    const s: EntranceStatus = { name: r.name, state: r.state, at: positional.length - 1 };
    if (e.statusTime !== undefined) s.statusTime = e.statusTime;
    if (e.reason !== undefined) s.reason = e.reason;
    valid.push(s);
  }
  return { positional, valid, bad: dropped };
}

/**
 * The market's merge: with no manifest entrances the runtime list is used as is; otherwise exactly the
 * manifest's entries in its order, entry i taking state, statusTime and reason from runtime entry i
 * (by position, not by name). Returns null for an empty result (Go's nil slice).
 */
export function mergeEntrances(manifest: readonly GoEntrance[], runtime: readonly GoEntrance[]): GoEntrance[] | null {
  if (manifest.length === 0) return runtime.length === 0 ? null : runtime.map((e) => ({ ...e }));
  return manifest.map((m, i) => {
    const out: GoEntrance = { ...m };
    for (const k of RUNTIME_FIELDS) delete out[k];
    const r = runtime[i];
    if (r) for (const k of RUNTIME_FIELDS) if (r[k] !== undefined && r[k] !== '') out[k] = r[k];
    return out;
  });
}

/**
 * metadata.status.entranceStatuses: the merge, bounded; null when nothing is left (Go sends null or a list with
 * entries, never `[]`: a first entrance past the bound on its own leaves none).
 */
export function statusEntrances(manifest: readonly GoEntrance[], runtime: readonly GoEntrance[]): GoEntrance[] | null {
  const merged = mergeEntrances(manifest, runtime);
  if (merged === null) return null;
  const { list } = boundEntrances(merged);
  return list.length === 0 ? null : list;
}

/** Keeps the leading entries of `list` that fit in MAX_ENTRANCES_BYTES; `cut` = how many were left out. */
export function boundEntrances<T>(list: T[]): { list: T[]; cut: number } {
  let bytes = 2;
  for (let i = 0; i < list.length; i++) {
    bytes += JSON.stringify(list[i]).length + 1;
    if (bytes > MAX_ENTRANCES_BYTES) return { list: list.slice(0, i), cut: list.length - i };
  }
  return { list, cut: 0 };
}

/** ua.metadata -> {icon, title}: title a string, or a locale map's en-US, else any string in it. */
export function iconAndTitle(raw: unknown): { icon: string; title: string; bad: boolean } {
  const { value, bad } = jsonValue(raw);
  if (bad || (value !== null && value !== undefined && !isObj(value))) return { icon: '', title: '', bad: true };
  if (!isObj(value)) return { icon: '', title: '', bad: false };
  const icon = typeof value.icon === 'string' ? clip(value.icon, 1024) : '';
  return { icon, title: clip(pickTitle(value.title), 1024), bad: false };
}

export function pickTitle(t: unknown): string {
  if (typeof t === 'string') return t;
  if (!isObj(t)) return '';
  if (typeof t['en-US'] === 'string') return t['en-US'];
  // Go ranges over a map (random order); the first string in key order keeps our answer stable
  for (const k of Object.keys(t).sort()) if (typeof t[k] === 'string') return t[k] as string;
  return '';
}

/** event_create_time as the market writes updateTime/statusTime/lastTransitionTime: UTC, to the second. */
export function toSecondUtc(iso: string | undefined): string {
  if (iso === undefined) return '';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms) || !isSetGoInstant(ms)) return '';
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
