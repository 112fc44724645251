import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const probe = fileURLToPath(new URL('./fixtures/tick-shape-probe.mts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mr-tick-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The inline-cache states of the computed keys in node's nextTick literal, after idle GCs. */
async function nextTickLiteralStates(pin: boolean): Promise<string[]> {
  // V8 prints through C stdio: to a file it is all there at exit, through a pipe node may cut it short
  const file = join(dir, `probe-${pin}.txt`);
  const fd = openSync(file, 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', '--allow-natives-syntax', '--expose-gc', probe], {
    env: { ...process.env, PIN: pin ? '1' : '0' }, stdio: ['ignore', fd, 'inherit'],
  });
  const [code] = await once(child, 'exit') as [number | null];
  closeSync(fd);
  expect(code).toBe(0);
  return [...readFileSync(file, 'utf8').matchAll(/DefineKeyedOwnPropertyInLiteral (\w+)/g)].map((m) => m[1]!);
}

// V8's own view of process.nextTick (node 20): whether each tick still defines its keys on the fast path
describe('pinTickShape', () => {
  it('without it, GCs while no tick is alive leave nextTick megamorphic for good (what it guards against)', async () => {
    const states = await nextTickLiteralStates(false);
    expect(states.length).toBeGreaterThan(0);
    expect(states).toContain('MEGAMORPHIC');
  }, 30_000);

  it('with it, nextTick stays monomorphic through the same GCs', async () => {
    const states = await nextTickLiteralStates(true);
    expect(states.length).toBeGreaterThan(0);
    expect(states.every((s) => s === 'MONOMORPHIC')).toBe(true);
  }, 30_000);
});
