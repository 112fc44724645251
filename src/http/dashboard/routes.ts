import { sha256 } from '../../content-digest.ts';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Context, Hono } from 'hono';
import { errorBody } from '../envelope.ts';
import { conditional } from '../etag.ts';
import { DATA_HEADERS, SECURITY_HEADERS } from '../security.ts';
import type { DashboardSettings } from '../../protocol.ts';

/**
 * The two operator pages: static HTML + ES modules + one stylesheet, read once at startup and
 * served from memory with an ETag. Every page carries a strict Content-Security-Policy: the pages load
 * only their own scripts and styles, have no inline script or handler, and fetch only their own origin.
 * The client fetches `state` relative to the page URL, so both base paths work.
 */

/** The strict CSP every page is served with; the pages are written so that it never gets in the way. */
export const DASHBOARD_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
  + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Each page: its body's file and what the shared top (page-top.html) says on it. */
const PAGES = {
  dashboard: { file: 'dashboard.html', title: 'Market runtime', heading: 'Market runtime', script: 'dashboard.js' },
  'dashboard-app': {
    file: 'dashboard-app.html', title: 'Market runtime · app flow', heading: 'App processing flow', script: 'dashboard-app.js',
  },
} as const;
type PageName = keyof typeof PAGES;
/** the head, header, sources strip and warning of both pages, written once */
const PAGE_TOP = 'page-top.html';

/**
 * The only files `/assets/:file` serves (no path is ever built from the request). Explicit on purpose: a
 * file dropped into the directory is not served until it is listed here. The pages' ES modules import each
 * other as `./x.js`, so each one must be listed (test/browser/routes.test.ts checks every import is).
 */
export const ASSET_FILES = [
  'dashboard.js', 'dashboard-app.js', 'dashboard.css',
  // shared modules, one concept each (see README.md beside them)
  'ages.js', 'api.js', 'apps-pager.js', 'card-grid.js', 'clock.js', 'dom.js', 'fetch-event-source.js', 'filters.js', 'format.js', 'freshness.js',
  'live-state.js', 'offline-banner.js', 'page-top.js', 'sources-banner.js', 'stuck.js', 'table.js', 'tabs.js', 'token.js', 'values.js',
  'version-tag.js', 'widgets.js',
] as const;

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

interface Served {
  body: Uint8Array<ArrayBuffer>;
  etag: string;
  type: string;
}

/**
 * Where the page files are:
 * - from source (tsx, vitest) this module is src/http/dashboard/routes.ts and the files sit beside it;
 * - built, it is bundled one level below dist/ (scripts/bundle-threads.mjs holds it there), and postbuild
 *   copied the files to dist/src/http/dashboard/, so dist/ alone is a complete deployment.
 */
export function assetDir(): string {
  const candidates = [new URL('./', import.meta.url), new URL('../src/http/dashboard/', import.meta.url)];
  for (const url of candidates) {
    const dir = fileURLToPath(url);
    // a directory counts only when complete: a stale copy missing a newer module must not be picked
    if ([PAGE_TOP, ...Object.values(PAGES).map((p) => p.file), ...ASSET_FILES].every((f) => existsSync(dir + f))) return dir;
  }
  throw new Error(`dashboard assets not found (looked in ${candidates.map((u) => fileURLToPath(u)).join(', ')})`);
}

export interface DashboardOptions extends DashboardSettings {
  /** where the files are (default: assetDir()) */
  dir?: string;
}

function served(text: string, type: string): Served {
  const body = new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>;
  return { body, etag: `"${sha256(body).slice(0, 22)}"`, type };
}

function load(dir: string, file: string): Served {
  return served(readFileSync(dir + file, 'utf8'), TYPES[file.slice(file.lastIndexOf('.') + 1)] ?? 'application/octet-stream');
}

/**
 * A page: the shared top filled in for it (its names, the nav link marked current, the poll period, whether the
 * demo banner shows), then its body.
 */
function loadPage(dir: string, name: PageName, intervalMs: string, demo: boolean): Served {
  const page = PAGES[name];
  let top = readFileSync(dir + PAGE_TOP, 'utf8')
    .replaceAll('__TITLE__', page.title).replaceAll('__HEADING__', page.heading).replaceAll('__SCRIPT__', page.script)
    .replaceAll('__COLLECT_INTERVAL_MS__', intervalMs).replaceAll('__DEMO_HIDDEN__', demo ? '' : ' hidden');
  for (const other of Object.keys(PAGES)) top = top.replaceAll(`__CURRENT_${other}__`, other === name ? ' aria-current="page"' : '');
  const left = /__[A-Za-z_-]+__/.exec(top);
  if (left) throw new Error(`${PAGE_TOP}: placeholder ${left[0]} has no value`);
  return served(top + readFileSync(dir + page.file, 'utf8'), TYPES.html!);
}

const COMMON_HEADERS = {
  ...SECURITY_HEADERS,
  // pages and assets are small: always revalidate (the ETag makes that a 304), never serve a stale page
  'Cache-Control': 'no-cache',
};

function serve(c: Context, f: Served, page: boolean): Response {
  const headers: Record<string, string> = { ...COMMON_HEADERS, ETag: f.etag };
  if (page) headers['Content-Security-Policy'] = DASHBOARD_CSP;
  return conditional(c, f.etag, f.body, (status) => (status === 304 ? headers : { ...headers, 'Content-Type': f.type }));
}

/** GET /dashboard, /dashboard-app and /assets/:file on the runtime sub-app (mounted under both base paths). */
export function registerDashboards(api: Hono, options: DashboardOptions = {}): void {
  const dir = options.dir ?? assetDir();
  const interval = String(Math.max(100, Math.floor(options.collectIntervalMs ?? 5000)));
  const demo = options.demo === true;
  const pages = { dashboard: loadPage(dir, 'dashboard', interval, demo), 'dashboard-app': loadPage(dir, 'dashboard-app', interval, demo) };
  const assets = new Map<string, Served>(ASSET_FILES.map((f) => [f, load(dir, f)]));

  api.get('/dashboard', (c) => serve(c, pages.dashboard, true));
  api.get('/dashboard-app', (c) => serve(c, pages['dashboard-app'], true));
  api.get('/assets/:file', (c) => {
    const f = assets.get(c.req.param('file'));
    if (!f) return c.json(errorBody('no such asset'), 404, { ...DATA_HEADERS });
    return serve(c, f, false);
  });
}
