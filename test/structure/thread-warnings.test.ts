import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const WORKERS = new URL('../../workers/', import.meta.url);

describe('process warnings in worker threads', () => {
  it('come out as JSON log lines, not node\'s plain text on stderr', () => {
    const worker = new URL('../fixtures/warning-thread.mjs', import.meta.url).pathname;
    const run = spawnSync(process.execPath, ['-e', `new (require('node:worker_threads').Worker)(${JSON.stringify(worker)})`], {
      encoding: 'utf8', timeout: 60_000,
    });
    const lines = `${run.stdout}${run.stderr}`.split('\n').filter((l) => l !== '');
    const parsed = lines.map((l) => {
      try {
        return JSON.parse(l) as { msg?: string; kind?: string; thread?: string };
      } catch {
        return l;
      }
    });
    expect(parsed.filter((l) => typeof l === 'string'), 'lines that are not JSON').toEqual([]);
    const warnings = parsed.filter((l) => typeof l === 'object' && l.msg === 'process warning');
    expect(warnings.map((w) => typeof w === 'object' && w.kind).sort()).toEqual(['DeprecationWarning', 'MaxListenersExceededWarning']);
  });

  it('are set up first in every thread\'s entry', () => {
    const entries = readdirSync(WORKERS).filter((f) => f.endsWith('.ts'));
    expect(entries.length).toBeGreaterThanOrEqual(4);
    for (const f of entries) expect(readFileSync(new URL(f, WORKERS), 'utf8'), f).toMatch(/\nlogWarningsAsJson\('[a-z]+'\);\n/);
  });
});
