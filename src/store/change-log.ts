import type { AppFlowState, TaskState } from '../model/index.ts';
import { DOMAINS, type ChangedEntity, type Domain, type Facets, type VersionChanges } from '../protocol.ts';
import type { EntityTable } from './entity-table.ts';
import type { StoreTables } from './store-tables.ts';

/** What a change-stream filter looks at. */
function facetsOf(domain: Domain, value: object): Facets {
  if (domain === 'app_states') {
    const a = value as AppFlowState;
    return { user_id: a.user_id, source_id: a.source_id, app_name: a.app_name, status: a.health, stuck: a.stuck === true };
  }
  if (domain === 'tasks') {
    const t = value as TaskState;
    return { user_id: t.user_id, app_name: t.app_name, status: t.status, type: t.type, stuck: t.stuck === true };
  }
  return {};
}

/** Per domain: every key touched since the last commit, with its facets before the first touch (null = new). */
type Touched = Record<Domain, Map<string, Facets | null>>;

function emptyTouched(): Touched {
  return { app_states: new Map(), tasks: new Map(), components: new Map() };
}

function emptyPassed(): Record<'app_states' | 'tasks', Map<string, Facets>> {
  return { app_states: new Map(), tasks: new Map() };
}

/**
 * What changed since the last version: whether anything a reader sees did (`dirty`: the next commit mints a
 * version), and which entities, with the facets they had before, for the change stream.
 */
export class ChangeLog {
  dirty = false;
  private touched = emptyTouched();
  /** apps and tasks new in this version and gone again, with the facets they last had (VersionChanges.passed) */
  private passed = emptyPassed();

  /** An entity changed (`before`: its value before, undefined when it is new). */
  touch(domain: Domain, key: string, before: object | undefined): void {
    const touched = this.touched[domain];
    if (!touched.has(key)) touched.set(key, before === undefined ? null : facetsOf(domain, before));
    this.dirty = true;
  }

  /** An entity left the store (`value`: what it was). */
  left(domain: Domain, key: string, value: object): void {
    if (domain !== 'components' && this.touched[domain].get(key) === null) this.passed[domain].set(key, facetsOf(domain, value));
    this.touch(domain, key, value);
  }

  /** The touched entities as they are now: upserts with JSON and facets, removals with their keys; starts afresh. */
  take(tables: StoreTables): VersionChanges {
    const out: VersionChanges = { app_states: [], tasks: [], components: [] };
    for (const domain of DOMAINS) {
      const table = tables.of(domain) as unknown as EntityTable<object>;
      for (const [key, before] of this.touched[domain]) {
        const row = table.rows.get(key);
        if (row) {
          const change: ChangedEntity = { key, json: table.json(key), now: facetsOf(domain, row.value) };
          if (before) change.before = before;
          out[domain].push(change);
        } else if (before) {
          out[domain].push({ key, before });
        }
      }
    }
    for (const domain of ['app_states', 'tasks'] as const) {
      // (one added again since is an upsert)
      for (const [key, facets] of this.passed[domain]) if (!tables.of(domain).rows.has(key)) (out.passed ??= { app_states: [], tasks: [] })[domain].push({ key, facets });
    }
    this.passed = emptyPassed();
    this.touched = emptyTouched();
    this.dirty = false;
    return out;
  }
}
