import { describe, expect, it } from 'vitest';
import { createRuntimeApp } from '../../src/http/app.ts';
import { SECURITY_HEADERS } from '../../src/http/security.ts';

/** README: "npm start — dashboards at http://localhost:8080": the bare host must land on the dashboard. */

const TOKEN = 'tok-0123456789abcdef-secret';
const app = createRuntimeApp({ current: () => null, queries: () => null, storeAlive: async () => false }, { apiToken: TOKEN });

describe('GET /', () => {
  it('redirects to the dashboard without a token, with the security headers and a short text', async () => {
    const res = await app.request('/');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/api/v2/runtime/dashboard');
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(name), name).toBe(value);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('Found: /api/v2/runtime/dashboard\n');
  });

  it('following the redirect, as a browser does, serves the dashboard page (still without a token)', async () => {
    const first = await app.request('http://localhost:8080/');
    const next = await app.request(new URL(first.headers.get('location')!, 'http://localhost:8080/').href);
    expect(next.status).toBe(200);
    expect(next.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await next.text()).toContain('<title>Market runtime</title>');
  });

  it('HEAD answers the same redirect without a body; other methods 405', async () => {
    const head = await app.request('/', { method: 'HEAD' });
    expect(head.status).toBe(302);
    expect(head.headers.get('location')).toBe('/api/v2/runtime/dashboard');
    expect(head.headers.get('content-length')).toBe(String('Found: /api/v2/runtime/dashboard\n'.length));
    expect(await head.text()).toBe('');
    expect((await app.request('/', { method: 'POST' })).status).toBe(405);
  });

  it('only the bare root is open: other paths at the root and the API data still need the token', async () => {
    for (const path of ['/index.html', '/api/v2/runtime/state']) expect((await app.request(path)).status, path).toBe(401);
    const open = createRuntimeApp({ current: () => null, queries: () => null, storeAlive: async () => false });
    expect((await open.request('/index.html')).status).toBe(404);
  });
});
