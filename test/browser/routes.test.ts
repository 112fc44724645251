import { readdirSync } from 'node:fs';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createRuntimeApp, BASE_PATHS } from '../../src/http/app.ts';
import { ASSET_FILES, assetDir, DASHBOARD_CSP, registerDashboards } from '../../src/http/dashboard/routes.ts';

/** The dashboard routes over HTTP, no browser needed. */
describe('dashboard routes', () => {
  const api = new Hono();
  registerDashboards(api, { collectIntervalMs: 1234 });

  it('serves both pages from memory with the strict CSP, an ETag and 304 on a match', async () => {
    for (const p of ['/dashboard', '/dashboard-app']) {
      const r = await api.request(p);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(r.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
      expect(DASHBOARD_CSP).toContain("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'");
      expect(r.headers.get('cache-control')).toBe('no-cache');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      const etag = r.headers.get('etag');
      expect(etag).toMatch(/^"[\w-]+"$/);
      const html = await r.text();
      // the poll period is written into the page once, at startup
      expect(html).toContain('<meta name="runtime-collect-interval-ms" content="1234">');
      expect(html).not.toContain('__COLLECT_INTERVAL_MS__');
      // relative asset URLs: the pages work under every base path
      expect(html).toMatch(/src="assets\/dashboard(-app)?\.js"/);
      // one document: the shared top, then the page's own body; only its own nav link is current
      expect(html.startsWith('<!doctype html>')).toBe(true);
      expect(html.match(/<html|<\/html>|<body|<header/g)).toEqual(['<html', '<body', '<header', '</html>']);
      expect(html).toContain(`src="assets${p}.js"`);
      expect(html.match(/<a href="[\w-]+" aria-current="page">/g)).toEqual([`<a href="${p.slice(1)}" aria-current="page">`]);
      expect(html).not.toMatch(/__[A-Za-z_-]+__/);
      const again = await api.request(p, { headers: { 'If-None-Match': etag! } });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe('');
    }
  });

  it('serves exactly the allow-listed assets with their types and ETags', async () => {
    for (const f of ASSET_FILES) {
      const r = await api.request(`/assets/${f}`);
      expect(r.status, f).toBe(200);
      expect(r.headers.get('content-type')).toBe(f.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8');
      expect(r.headers.get('etag')).toBeTruthy();
      const etag = r.headers.get('etag')!;
      expect((await api.request(`/assets/${f}`, { headers: { 'If-None-Match': `W/${etag}` } })).status).toBe(304);
    }
    for (const bad of ['routes.ts', 'dashboard.html', '..%2Froutes.ts', '%2e%2e%2f%2e%2e%2fapp.ts', 'nope.js', '.', 'dom.js%00']) {
      expect((await api.request(`/assets/${bad}`)).status, bad).toBe(404);
    }
  });

  it('no asset uses innerHTML, eval, inline handlers or document.write', async () => {
    const scripts = ASSET_FILES.filter((x) => x.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(0);
    for (const f of scripts) {
      const r = await api.request(`/assets/${f}`);
      expect(r.status, f).toBe(200);
      const text = await r.text();
      expect(text, f).not.toMatch(/\.innerHTML\s*=|\.outerHTML\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(|setAttribute\(\s*['"]on/);
    }
  });

  it('serves every module the pages import, and every script and stylesheet beside them', async () => {
    // a module left off the allow-list would 404 in the browser and take its page down with it
    const onDisk = readdirSync(assetDir()).filter((f) => /\.(js|css)$/.test(f)).sort();
    expect([...ASSET_FILES].sort()).toEqual(onDisk);
    let imports = 0;
    for (const f of ASSET_FILES.filter((x) => x.endsWith('.js'))) {
      const r = await api.request(`/assets/${f}`);
      expect(r.status, f).toBe(200);
      const text = await r.text();
      for (const [, spec] of text.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+'([^']+)'/gm)) {
        // relative, same directory: the pages work under both base paths
        expect(spec, `${f} imports ${spec}`).toMatch(/^\.\/[\w-]+\.js$/);
        expect((await api.request(`/assets/${spec!.slice(2)}`)).status, `${f} imports ${spec}`).toBe(200);
        imports++;
      }
    }
    // the pages are split into modules: some import was found and followed
    expect(imports).toBeGreaterThan(0);
  });

  it('finds its files from the source tree', () => {
    expect(assetDir()).toMatch(/src\/http\/dashboard\/$/);
  });

  it('carries the sidecar\'s COLLECT_INTERVAL_MS, not a default (the pages judge staleness by it)', async () => {
    const app = createRuntimeApp({ current: () => null, queries: () => null, storeAlive: async () => false, dashboards: { collectIntervalMs: 30_000 } });
    for (const p of ['/dashboard', '/dashboard-app']) {
      expect(await (await app.request(`${BASE_PATHS[0]}${p}`)).text()).toContain('<meta name="runtime-collect-interval-ms" content="30000">');
    }
  });

  it('says the data is simulated on the embedded demo market, and only there', async () => {
    const banner = '<div id="demo" class="warning demo" role="note"';
    for (const [dashboards, shown] of [[{ demo: true }, true], [{ demo: false }, false], [undefined, false]] as const) {
      const app = createRuntimeApp({ current: () => null, queries: () => null, storeAlive: async () => false, dashboards });
      for (const p of ['/dashboard', '/dashboard-app']) {
        const html = await (await app.request(`${BASE_PATHS[0]}${p}`)).text();
        expect(html).toContain(shown ? `${banner}>Demo market: simulated data.` : `${banner} hidden>`);
      }
    }
  });

  it('is mounted on the runtime app under both base paths', async () => {
    const app = createRuntimeApp({ current: () => null, queries: () => null, storeAlive: async () => false });
    for (const base of BASE_PATHS) {
      for (const p of ['/dashboard', '/dashboard-app', '/assets/dashboard.css']) {
        const r = await app.request(`${base}${p}`);
        expect(r.status, `${base}${p}`).toBe(200);
      }
      const page = await app.request(`${base}/dashboard`);
      // the app's own hardening must not replace the page's CSP
      expect(page.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    }
  });
});
