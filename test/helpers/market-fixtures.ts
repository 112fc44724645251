import type postgres from 'postgres';

/** Rows for the market tables, with the defaults of MARKET_DDL; times as Date or ISO strings. */
type Time = Date | string;
// (a string goes to PostgreSQL as written, with the test client's PG_TIME_TYPES: new Date() reads
// '0001-01-01 00:00:00+00' as the year 2001)
const ts = (t: Time | null | undefined): string | null => (t == null ? null : typeof t === 'string' ? t : t.toISOString());

export interface TaskFixture {
  task_id: string;
  type: number;
  status: number;
  app_name: string;
  user_account?: string;
  op_id?: string;
  metadata?: string;
  result?: string;
  error_msg?: string;
  created_at: Time;
  started_at?: Time | null;
  completed_at?: Time | null;
}

export async function insertTasks(sql: postgres.Sql, tasks: TaskFixture[]): Promise<void> {
  for (const t of tasks) {
    await sql`
      INSERT INTO task_records (task_id, type, status, app_name, user_account, op_id, metadata, result, error_msg,
        created_at, started_at, completed_at)
      VALUES (${t.task_id}, ${t.type}, ${t.status}, ${t.app_name}, ${t.user_account ?? ''}, ${t.op_id ?? ''},
        ${t.metadata ?? '{}'}, ${t.result ?? ''}, ${t.error_msg ?? ''}, ${ts(t.created_at)}::timestamptz,
        ${ts(t.started_at)}::timestamptz, ${ts(t.completed_at)}::timestamptz)`;
  }
}

export interface UserAppFixture {
  user_id: string;
  source_id: string;
  app_name: string;
  app_id?: string;
  app_raw_name?: string;
  manifest_type?: string;
  /** ua.metadata JSONB: {icon, title} */
  metadata?: unknown;
  /** ua.entrances JSONB: the manifest's entrance declarations */
  entrances?: unknown;
  render_status?: string;
  render_consecutive_failures?: number;
  updated_at?: Time;
  /** omit for a catalog row without a user_application_states row */
  state?: StateFixture;
}

interface StateFixture {
  state: string;
  installed_version?: string;
  target_version?: string;
  is_sys_app?: boolean;
  reason?: string;
  message?: string;
  progress?: string;
  op_id?: string;
  op_type?: string;
  event_create_time?: Time;
  /** JSON text of the JSONB column */
  status_entrances?: string;
  shared_entrances?: unknown;
  updated_at?: Time;
}

export async function insertUserApps(sql: postgres.Sql, apps: UserAppFixture[]): Promise<void> {
  for (const a of apps) {
    const [row] = await sql`
      INSERT INTO user_applications (source_id, user_id, app_id, app_name, app_raw_name, manifest_type, metadata,
        entrances, render_status, render_consecutive_failures, updated_at)
      VALUES (${a.source_id}, ${a.user_id}, ${a.app_id ?? a.app_name}, ${a.app_name}, ${a.app_raw_name ?? a.app_name},
        ${a.manifest_type ?? 'app'}, ${JSON.stringify(a.metadata ?? {})}::jsonb, ${JSON.stringify(a.entrances ?? [])}::jsonb,
        ${a.render_status ?? 'success'}, ${a.render_consecutive_failures ?? 0},
        ${ts(a.updated_at ?? '2026-01-01T00:00:00Z')}::timestamptz)
      RETURNING id`;
    const s = a.state;
    if (!s) continue;
    await sql`
      INSERT INTO user_application_states (user_application_id, installed_version, target_version, is_sys_app, state,
        reason, message, progress, op_id, op_type, event_create_time, status_entrances, shared_entrances, updated_at)
      VALUES (${row!.id}, ${s.installed_version ?? ''}, ${s.target_version ?? ''}, ${s.is_sys_app ?? false}, ${s.state},
        ${s.reason ?? ''}, ${s.message ?? ''}, ${s.progress ?? ''}, ${s.op_id ?? ''}, ${s.op_type ?? ''},
        ${ts(s.event_create_time)}::timestamptz, ${s.status_entrances ?? '[]'}::jsonb,
        ${JSON.stringify(s.shared_entrances ?? [])}::jsonb,
        ${ts(s.updated_at ?? '2026-01-02T00:00:00Z')}::timestamptz)`;
  }
}

export async function insertSources(
  sql: postgres.Sql, sources: { source_id: string; source_type?: string; is_active?: boolean }[],
): Promise<void> {
  for (const s of sources) {
    await sql`INSERT INTO market_sources (source_id, source_type, is_active)
      VALUES (${s.source_id}, ${s.source_type ?? 'remote'}, ${s.is_active ?? true})`;
  }
}

export async function insertCatalog(
  sql: postgres.Sql, apps: { source_id: string; app_id: string; updated_at: Time }[],
): Promise<void> {
  for (const a of apps) {
    await sql`INSERT INTO applications (source_id, app_id, app_name, updated_at)
      VALUES (${a.source_id}, ${a.app_id}, ${a.app_id}, ${ts(a.updated_at)}::timestamptz)`;
  }
}
