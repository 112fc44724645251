import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RequestStats } from '../../src/http/request-stats.ts';
import { parseProm, value } from '../helpers/prom.ts';

const BOUNDS = [0.001, 0.01, 0.1];
const COUNTER = { name: 'req_total', help: 'requests' };
const LATENCY = { name: 'req_seconds', help: 'latency' };

function exposed(observe: (stats: RequestStats) => void) {
  const registry = new Registry();
  const stats = new RequestStats(BOUNDS);
  stats.register(registry, COUNTER, LATENCY);
  observe(stats);
  return registry.metrics();
}

describe('RequestStats', () => {
  it('exposes exactly what prom-client\'s own Histogram would for the same observations', async () => {
    const observations: Array<[string, string, number, number]> = [
      ['GET', '/state', 200, 0.0004], ['GET', '/state', 200, 0.001], ['GET', '/state', 200, 0.05],
      ['GET', '/state', 304, 0.2], ['HEAD', '/tasks/:id', 404, 0.0101], ['GET', '/state', 200, 7],
    ];
    const ours = await exposed((s) => { for (const [m, r, st, v] of observations) s.of(m, r, st).observe(v); });

    const reference = new Registry();
    const h = new Histogram({ ...LATENCY, labelNames: ['method', 'route', 'status'], buckets: BOUNDS, registers: [reference] });
    for (const [method, route, status, v] of observations) h.observe({ method, route, status: String(status) }, v);
    const latencyOnly = (text: string) => text.split('\n').filter((l) => l.includes('req_seconds')).sort();
    expect(latencyOnly(ours)).toEqual(latencyOnly(await reference.metrics()));
  });

  it('counts requests per label set and keeps one series per set', async () => {
    const e = parseProm(await exposed((s) => {
      for (let i = 0; i < 5; i += 1) s.of('GET', '/state', 304).observe(0.0001);
      s.of('GET', '/state', 200).observe(0.0001);
    }));
    expect(value(e, 'req_total', { method: 'GET', route: '/state', status: '304' })).toBe(5);
    expect(value(e, 'req_total', { method: 'GET', route: '/state', status: '200' })).toBe(1);
    expect(value(e, 'req_seconds_bucket', { status: '304', le: '0.001' })).toBe(5);
    expect(value(e, 'req_seconds_count', { status: '304' })).toBe(5);
    expect(e.types.get('req_total')).toBe('counter');
    expect(e.types.get('req_seconds')).toBe('histogram');
  });

  it('escapes label values like prom-client does', async () => {
    const e = parseProm(await exposed((s) => s.of('GET', 'a"b\\c\nd', 200).observe(0.5)));
    expect(value(e, 'req_total', { route: 'a"b\\c\nd' })).toBe(1);
  });
});
