import type { Sql, TransactionSql } from 'postgres';
import {
  drainChanges, type CatalogApp, type Install, type MarketChanges, type MarketModel, type MarketSource,
  type NaturalKey, type Task,
} from './market-model.ts';

/**
 * Writes the simulated market into the market tables (works against the embedded PGlite and a real
 * PostgreSQL). Every batch is one transaction, so a collector never reads half a tick. Rows travel as one
 * JSON parameter per table expanded by json_to_recordset: one round trip per table whatever the size,
 * and upserts keyed by the tables' natural keys so a database that already holds rows is fine.
 */

export interface WriteReport {
  sources: number;
  catalog: number;
  installs: number;
  removedInstalls: number;
  tasks: number;
  removedTasks: number;
  ms: number;
}

export interface MarketWriter {
  /** writes every row of the model (seeding) and forgets pending changes */
  writeAll(m: MarketModel): Promise<WriteReport>;
  /** writes what changed since the last write */
  flush(m: MarketModel): Promise<WriteReport>;
  /** deletes the rows of the model's users (installs and tasks); catalogs and sources are left alone */
  resetUsers(m: MarketModel): Promise<void>;
}

interface Batch {
  sources: MarketSource[];
  catalog: CatalogApp[];
  installs: Install[];
  removedInstalls: NaturalKey[];
  tasks: Task[];
  removedTasks: string[];
}

const CHUNK = 5000;
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function createMarketWriter(sql: Sql): MarketWriter {
  const write = async (b: Batch): Promise<WriteReport> => {
    const t0 = performance.now();
    await sql.begin(async (tx) => {
      await upsertSources(tx, b.sources);
      await upsertCatalog(tx, b.catalog);
      await deleteInstalls(tx, b.removedInstalls);
      await upsertInstalls(tx, b.installs);
      await deleteTasks(tx, b.removedTasks);
      await upsertTasks(tx, b.tasks);
    });
    return {
      sources: b.sources.length, catalog: b.catalog.length, installs: b.installs.length,
      removedInstalls: b.removedInstalls.length, tasks: b.tasks.length, removedTasks: b.removedTasks.length,
      ms: Math.round(performance.now() - t0),
    };
  };
  return {
    writeAll(m) {
      drainChanges(m);
      return write({
        sources: m.sources, catalog: [...m.catalog.values()], installs: [...m.installs.values()],
        removedInstalls: [], tasks: [...m.tasks.values()], removedTasks: [],
      });
    },
    flush(m) {
      return write(batchOf(m, drainChanges(m)));
    },
    async resetUsers(m) {
      await sql.begin(async (tx) => {
        await tx.unsafe('DELETE FROM user_applications WHERE user_id IN (SELECT json_array_elements_text($1::text::json))', [JSON.stringify(m.users)]);
        await tx.unsafe('DELETE FROM task_records WHERE user_account IN (SELECT json_array_elements_text($1::text::json))', [JSON.stringify(m.users)]);
      });
    },
  };
}

function batchOf(m: MarketModel, c: MarketChanges): Batch {
  const pick = <K, V>(keys: Set<K>, map: Map<K, V>): V[] => [...keys].map((k) => map.get(k)).filter((x): x is V => x !== undefined);
  return {
    sources: m.sources.filter((s) => c.sources.has(s.source_id)),
    catalog: pick(c.catalog, m.catalog),
    installs: pick(c.installs, m.installs),
    removedInstalls: [...c.removedInstalls.values()],
    tasks: pick(c.tasks, m.tasks),
    removedTasks: [...c.removedTasks],
  };
}

async function inChunks<T>(tx: TransactionSql, rows: T[], query: string, toJson: (r: T) => unknown): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    await tx.unsafe(query, [JSON.stringify(rows.slice(i, i + CHUNK).map(toJson))]);
  }
}

function upsertSources(tx: TransactionSql, rows: MarketSource[]): Promise<void> {
  return inChunks(tx, rows, `
    INSERT INTO market_sources (source_id, source_type, is_active, updated_at)
    SELECT * FROM json_to_recordset($1::text::json) AS v(source_id text, source_type text, is_active boolean, updated_at timestamptz)
    ON CONFLICT (source_id) DO UPDATE SET source_type = EXCLUDED.source_type, is_active = EXCLUDED.is_active,
      updated_at = EXCLUDED.updated_at`,
  (s) => ({ ...s, updated_at: iso(s.updated_at) }));
}

function upsertCatalog(tx: TransactionSql, rows: CatalogApp[]): Promise<void> {
  return inChunks(tx, rows, `
    INSERT INTO applications (source_id, app_id, app_name, app_version, app_type, updated_at)
    SELECT * FROM json_to_recordset($1::text::json)
      AS v(source_id text, app_id text, app_name text, app_version text, app_type text, updated_at timestamptz)
    ON CONFLICT (source_id, app_id) DO UPDATE SET app_name = EXCLUDED.app_name, app_version = EXCLUDED.app_version,
      app_type = EXCLUDED.app_type, updated_at = EXCLUDED.updated_at`,
  (a) => ({
    source_id: a.source_id, app_id: a.app_id, app_name: a.app_name, app_version: a.app_version,
    app_type: a.app_type, updated_at: iso(a.updated_at),
  }));
}

async function upsertInstalls(tx: TransactionSql, rows: Install[]): Promise<void> {
  await inChunks(tx, rows, `
    INSERT INTO user_applications (source_id, user_id, app_id, app_raw_id, app_name, app_raw_name, manifest_version,
      manifest_type, render_status, render_error, render_consecutive_failures, is_upgrade, metadata, entrances,
      created_at, updated_at)
    SELECT * FROM json_to_recordset($1::text::json) AS v(source_id text, user_id text, app_id text, app_raw_id text,
      app_name text, app_raw_name text, manifest_version text, manifest_type text, render_status text,
      render_error text, render_consecutive_failures int, is_upgrade boolean, metadata jsonb, entrances jsonb,
      created_at timestamptz, updated_at timestamptz)
    ON CONFLICT (user_id, source_id, app_name) DO UPDATE SET app_id = EXCLUDED.app_id,
      app_raw_id = EXCLUDED.app_raw_id, app_raw_name = EXCLUDED.app_raw_name,
      manifest_version = EXCLUDED.manifest_version, manifest_type = EXCLUDED.manifest_type,
      render_status = EXCLUDED.render_status, render_error = EXCLUDED.render_error,
      render_consecutive_failures = EXCLUDED.render_consecutive_failures, is_upgrade = EXCLUDED.is_upgrade,
      metadata = EXCLUDED.metadata, entrances = EXCLUDED.entrances, updated_at = EXCLUDED.updated_at`,
  (i) => ({
    source_id: i.source_id, user_id: i.user_id, app_id: i.app_id, app_raw_id: i.app_raw_id, app_name: i.app_name,
    app_raw_name: i.app_raw_name, manifest_version: i.manifest_version, manifest_type: i.manifest_type,
    render_status: i.render_status, render_error: i.render_error,
    render_consecutive_failures: i.render_consecutive_failures, is_upgrade: i.is_upgrade,
    metadata: i.manifest.metadata, entrances: i.manifest.entrances,
    created_at: iso(i.created_at), updated_at: iso(i.updated_at),
  }));
  await inChunks(tx, rows, `
    INSERT INTO user_application_states (user_application_id, installed_version, target_version, is_sys_app, state,
      reason, message, progress, op_id, op_type, event_create_time, status_entrances, shared_entrances, created_at,
      updated_at)
    SELECT ua.id, v.installed_version, v.target_version, v.is_sys_app, v.state, v.reason, v.message, v.progress,
      v.op_id, v.op_type, v.event_create_time, v.status_entrances, v.shared_entrances, v.created_at, v.updated_at
    FROM json_to_recordset($1::text::json) AS v(user_id text, source_id text, app_name text, installed_version text,
      target_version text, is_sys_app boolean, state text, reason text, message text, progress text, op_id text,
      op_type text, event_create_time timestamptz, status_entrances jsonb, shared_entrances jsonb,
      created_at timestamptz, updated_at timestamptz)
    JOIN user_applications ua ON ua.user_id = v.user_id AND ua.source_id = v.source_id AND ua.app_name = v.app_name
    ON CONFLICT (user_application_id) DO UPDATE SET installed_version = EXCLUDED.installed_version,
      target_version = EXCLUDED.target_version, is_sys_app = EXCLUDED.is_sys_app, state = EXCLUDED.state,
      reason = EXCLUDED.reason, message = EXCLUDED.message, progress = EXCLUDED.progress, op_id = EXCLUDED.op_id,
      op_type = EXCLUDED.op_type, event_create_time = EXCLUDED.event_create_time,
      status_entrances = EXCLUDED.status_entrances, shared_entrances = EXCLUDED.shared_entrances,
      updated_at = EXCLUDED.updated_at`,
  (i) => ({
    user_id: i.user_id, source_id: i.source_id, app_name: i.app_name, ...i.state,
    shared_entrances: i.manifest.shared_entrances,
    event_create_time: iso(i.state.event_create_time), created_at: iso(i.state.created_at),
    updated_at: iso(i.state.updated_at),
  }));
}

function deleteInstalls(tx: TransactionSql, keys: NaturalKey[]): Promise<void> {
  // the state row goes with it (ON DELETE CASCADE)
  return inChunks(tx, keys, `
    DELETE FROM user_applications ua USING json_to_recordset($1::text::json) AS v(user_id text, source_id text, app_name text)
    WHERE ua.user_id = v.user_id AND ua.source_id = v.source_id AND ua.app_name = v.app_name`,
  (k) => k);
}

function upsertTasks(tx: TransactionSql, rows: Task[]): Promise<void> {
  return inChunks(tx, rows, `
    INSERT INTO task_records (task_id, type, status, app_name, user_account, op_id, metadata, result, error_msg,
      created_at, started_at, completed_at, updated_at)
    SELECT * FROM json_to_recordset($1::text::json) AS v(task_id text, type int, status int, app_name text,
      user_account text, op_id text, metadata text, result text, error_msg text, created_at timestamptz,
      started_at timestamptz, completed_at timestamptz, updated_at timestamptz)
    ON CONFLICT (task_id) DO UPDATE SET status = EXCLUDED.status, metadata = EXCLUDED.metadata,
      result = EXCLUDED.result, error_msg = EXCLUDED.error_msg, started_at = EXCLUDED.started_at,
      completed_at = EXCLUDED.completed_at, updated_at = EXCLUDED.updated_at`,
  (t) => ({
    task_id: t.task_id, type: t.type, status: t.status, app_name: t.app_name, user_account: t.user_account,
    op_id: t.op_id, metadata: JSON.stringify(t.metadata), result: t.result, error_msg: t.error_msg,
    created_at: iso(t.created_at), started_at: iso(t.started_at), completed_at: iso(t.completed_at),
    updated_at: iso(t.updated_at),
  }));
}

function deleteTasks(tx: TransactionSql, ids: string[]): Promise<void> {
  return inChunks(tx, ids, 'DELETE FROM task_records WHERE task_id IN (SELECT json_array_elements_text($1::text::json))', (id) => id);
}
