import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const probe = fileURLToPath(new URL('./tick-shape-probe.mts', import.meta.url));

/**
 * V8's own view of process.nextTick after idle GCs (src/tick-shape.ts says why it matters: a megamorphic
 * nextTick made a 304 cost 1.6-1.8 x the bare server's CPU): the inline-cache states of the computed keys in
 * node's tick literal, with or without pinTickShape. These are V8 internals of node 20; another node may
 * print other states or none, so the bench reports them and never fails on them.
 */
async function nextTickFeedback(pin: boolean): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mr-tick-'));
  try {
    // V8 prints through C stdio: to a file it is all there at exit, through a pipe node may cut it short
    const file = join(dir, 'probe.txt');
    const fd = openSync(file, 'w');
    const child = spawn(process.execPath, ['--import', 'tsx', '--allow-natives-syntax', '--expose-gc', probe], {
      env: { ...process.env, PIN: pin ? '1' : '0' }, stdio: ['ignore', fd, 'inherit'],
    });
    const [code] = await once(child, 'exit') as [number | null];
    closeSync(fd);
    if (code !== 0) throw new Error(`tick-shape probe exited with ${code}`);
    return [...readFileSync(file, 'utf8').matchAll(/DefineKeyedOwnPropertyInLiteral (\w+)/g)].map((m) => m[1]!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line for the bench: does the pin keep nextTick monomorphic, and does the unpinned run show what it guards against. */
export async function tickShapeReport(): Promise<{ pinned: string[]; unpinned: string[]; monomorphic: boolean; line: string }> {
  const pinned = await nextTickFeedback(true);
  const unpinned = await nextTickFeedback(false);
  const monomorphic = pinned.length > 0 && pinned.every((s) => s === 'MONOMORPHIC');
  const show = (s: string[]) => (s.length ? [...new Set(s)].join('/') : 'no feedback printed');
  const line = `nextTick feedback after idle GCs (node ${process.version}): with pinTickShape ${show(pinned)}, without ${show(unpinned)}`;
  return { pinned, unpinned, monomorphic, line };
}
