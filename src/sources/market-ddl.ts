/**
 * Our own DDL of the market tables the sidecar reads (docs/architecture.md, Sources). The sidecar never runs this against a
 * real market: it is for the embedded demo market, the test fixtures and CI's scratch database.
 */
export const MARKET_DDL = `
CREATE TABLE IF NOT EXISTS market_sources (
  source_id    TEXT PRIMARY KEY,
  source_type  TEXT NOT NULL DEFAULT 'remote',
  is_active    BOOLEAN NOT NULL DEFAULT TRUE,
  updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS applications (
  id           BIGSERIAL PRIMARY KEY,
  source_id    TEXT NOT NULL,
  app_id       TEXT NOT NULL,
  app_name     TEXT NOT NULL,
  app_version  TEXT NOT NULL DEFAULT '',
  app_type     TEXT NOT NULL DEFAULT 'app',
  updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (source_id, app_id)
);

CREATE TABLE IF NOT EXISTS user_applications (
  id                           BIGSERIAL PRIMARY KEY,
  source_id                    TEXT NOT NULL,
  user_id                      TEXT NOT NULL,
  app_id                       TEXT NOT NULL,
  app_raw_id                   TEXT NOT NULL DEFAULT '',
  app_name                     TEXT NOT NULL,
  app_raw_name                 TEXT NOT NULL DEFAULT '',
  manifest_version             TEXT NOT NULL DEFAULT '',
  manifest_type                TEXT NOT NULL DEFAULT 'app',
  render_status                TEXT NOT NULL DEFAULT 'pending',
  render_error                 TEXT NOT NULL DEFAULT '',
  render_consecutive_failures  INT NOT NULL DEFAULT 0,
  is_upgrade                   BOOLEAN NOT NULL DEFAULT FALSE,
  -- the app's icon and title: {"icon": "...", "title": "..." | {"en-US": "...", ...}}
  metadata                     JSONB NOT NULL DEFAULT '{}'::jsonb,
  -- the manifest's entrance declarations (name, host, port, title, icon, authLevel, url, openMethod, invisible…)
  entrances                    JSONB NOT NULL DEFAULT '[]'::jsonb,
  created_at                   TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at                   TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (user_id, source_id, app_name)
);

CREATE TABLE IF NOT EXISTS user_application_states (
  id                   BIGSERIAL PRIMARY KEY,
  user_application_id  BIGINT NOT NULL UNIQUE REFERENCES user_applications(id) ON DELETE CASCADE,
  installed_version    TEXT NOT NULL DEFAULT '',
  target_version       TEXT NOT NULL DEFAULT '',
  is_sys_app           BOOLEAN NOT NULL DEFAULT FALSE,
  state                TEXT NOT NULL DEFAULT '',
  reason               TEXT NOT NULL DEFAULT '',
  message              TEXT NOT NULL DEFAULT '',
  progress             TEXT NOT NULL DEFAULT '',
  op_id                TEXT NOT NULL DEFAULT '',
  op_type              TEXT NOT NULL DEFAULT '',
  event_create_time    TIMESTAMPTZ,
  entrances            JSONB NOT NULL DEFAULT '[]'::jsonb,
  shared_entrances     JSONB NOT NULL DEFAULT '[]'::jsonb,
  -- runtime status per entrance, in the manifest's order: {name, state, statusTime, reason}
  status_entrances     JSONB NOT NULL DEFAULT '[]'::jsonb,
  created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS task_records (
  id            BIGSERIAL PRIMARY KEY,
  task_id       TEXT NOT NULL UNIQUE,
  type          INT NOT NULL,
  status        INT NOT NULL,
  app_name      TEXT NOT NULL,
  user_account  TEXT NOT NULL DEFAULT '',
  op_id         TEXT NOT NULL DEFAULT '',
  metadata      TEXT NOT NULL DEFAULT '{}',
  result        TEXT NOT NULL DEFAULT '',
  error_msg     TEXT NOT NULL DEFAULT '',
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  started_at    TIMESTAMPTZ,
  completed_at  TIMESTAMPTZ,
  updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS task_records_status_idx ON task_records (status);
CREATE INDEX IF NOT EXISTS task_records_recent_idx
  ON task_records ((COALESCE(completed_at, started_at, created_at)) DESC);
`;
