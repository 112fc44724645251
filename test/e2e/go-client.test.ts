import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BASE_PATHS } from '../../src/http/base-paths.ts';
import { answersData, normalizedAnswers, snapshotOf } from '../helpers/chart-repo-arbitraries.ts';
import { startDemoSidecar, type Sidecar } from '../helpers/demo-sidecar.ts';
import { describeWith, GO_BIN } from '../helpers/services.ts';
import { eventually } from '../helpers/sidecar.ts';
import { openStream, type SseEvent } from '../helpers/sse.ts';

/**
 * A real Go client reads our answers: test/go-client (Go 1.19, standard library only) holds the market's Go
 * structs transcribed from docs/go-wire.md; it decodes each answer of the whole sidecar running the embedded
 * demo market (real collectors on PGlite, the simulated Chart Repo, a workload moving apps and tasks) and
 * compares Go's re-marshal with our JSON on every key the structs declare. Needs go (test/helpers/services.ts).
 */

const GO_CLIENT_DIR = fileURLToPath(new URL('../go-client/', import.meta.url));
/** the answers written for the Go client, and the program (made in beforeAll) */
let dir = '';

type Kind = 'state' | 'snapshot' | 'change' | 'summary';
type Json = Record<string, any>;

function writable(path: string | undefined): boolean {
  if (!path) return false;
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Go with no downloads, this machine's toolchain, and its caches in a temp dir when HOME cannot hold them. */
function goEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GOTOOLCHAIN: 'local', GOPROXY: 'off', GOWORK: 'off', GO111MODULE: 'on', CGO_ENABLED: '0' };
  if (!writable(process.env.HOME)) {
    const root = join(tmpdir(), 'market-runtime-go');
    env.GOCACHE ||= join(root, 'cache');
    env.GOPATH ||= join(root, 'path');
  }
  return env;
}

/** Runs a program to its end: its exit code and everything it wrote. */
function run(file: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: goEnv(), maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}${err && typeof err.code !== 'number' ? err.message : ''}` });
    });
  });
}

/** Builds test/go-client once; the path of the program. */
async function buildGoClient(): Promise<string> {
  const bin = join(dir, 'go-client');
  const { code, output } = await run(GO_BIN, ['build', '-o', bin, '.'], GO_CLIENT_DIR);
  if (code !== 0) throw new Error(`go build in test/go-client failed:\n${output}`);
  return bin;
}

let written = 0;
/** Writes one document for the Go client; its `kind=path` argument. */
function file(kind: Kind, name: string, text: string): string {
  const path = join(dir, `${String(++written).padStart(2, '0')}-${name}.json`);
  writeFileSync(path, text);
  return `${kind}=${path}`;
}

describeWith('go', 'a real Go client decodes the sidecar\'s answers (test/go-client)', () => {
  let sidecar: Sidecar;
  let root = '';
  let goClient = '';
  const goClientRun = (args: string[]) => run(goClient, args, dir);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mr-go-client-'));
    const starting = (async () => {
      ({ sidecar, root } = await startDemoSidecar());
      // every part of the snapshot present, so the Go structs are exercised on all of it
      await eventually(async () => {
        const r = await fetch(`${root}${BASE_PATHS[0]}/state`);
        const s = ((await r.json()) as Json).data as Json | null;
        const chart = s?.chart_repo;
        const ready = s && Object.keys(s.app_states).length > 0 && Object.keys(s.tasks).length > 0
          && Object.keys(s.components).length > 0 && chart?.apps?.length > 0 && chart?.images?.length > 0
          && chart?.tasks?.hydrator && chart?.tasks?.image_analyzer;
        if (!ready) throw new Error('the demo market is not fully collected yet');
      }, 90_000, 250);
    })();
    [goClient] = await Promise.all([buildGoClient(), starting]);
  }, 150_000);

  afterAll(async () => {
    await sidecar?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('decodes and re-marshals /state (both base paths, filtered), snapshot, change and summary events as Go sends them', { timeout: 90_000 }, async () => {
    const args: string[] = [];
    let state: Json = {};
    for (const base of BASE_PATHS) {
      const text = await (await fetch(`${root}${base}/state`)).text();
      state = JSON.parse(text) as Json;
      args.push(file('state', `state${base.replaceAll('/', '-')}`, text));
    }
    const user = (Object.values(state.data.app_states)[0] as Json).user_id as string;
    const filtered = await (await fetch(`${root}${BASE_PATHS[0]}/state?user_id=${encodeURIComponent(user)}`)).text();
    expect(Object.keys(JSON.parse(filtered).data.app_states).length).toBeGreaterThan(0);
    args.push(file('state', 'state-filtered', filtered));

    // the change stream (all of it, and one user's), and the summary view, until each has its events
    const streams = {
      all: await openStream(`${root}${BASE_PATHS[0]}/events`),
      user: await openStream(`${root}${BASE_PATHS[1]}/events?user_id=${encodeURIComponent(user)}`),
      summary: await openStream(`${root}${BASE_PATHS[0]}/events?view=summary`),
    };
    const changes = (events: SseEvent[]) => events.filter((e) => e.event === 'change');
    try {
      await Promise.all(Object.values(streams).map((s) => s.next((e) => e.event === 'snapshot', 20_000)));
      await streams.all.next((e) => e.event === 'change' && JSON.parse(e.data).chart_repo !== undefined, 45_000);
      await streams.all.next(() => changes(streams.all.events).length >= 3, 45_000);
      await streams.user.next((e) => e.event === 'change', 45_000);
      await streams.summary.next((e) => e.event === 'change', 45_000);
    } finally {
      await Promise.all(Object.values(streams).map((s) => s.close()));
    }
    for (const [name, s] of Object.entries(streams)) {
      for (const e of s.events.filter((x) => x.event === 'snapshot' || x.event === 'change')) {
        const kind: Kind = name === 'summary' ? 'summary' : e.event === 'snapshot' ? 'snapshot' : 'change';
        args.push(file(kind, `${name}-${e.event}`, e.data));
      }
    }

    const { code, output } = await goClientRun(args);
    expect(code, output).toBe(0);
    // every file was checked, each on what the structs declare
    expect(output.match(/^ok {3}/gm)?.length, output).toBe(args.length);
    expect(output).toContain(`all ${args.length} files decode and re-marshal as Go sends them`);
  });

  it('decodes the snapshots of fuzzed Chart Repo payloads (odd times, durations, values, types) as Go sends them', { timeout: 60_000 }, async () => {
    // what the emulated check (test/collect/chart-repo-go-wire.test.ts) fuzzes, here through Go itself
    const samples = fc.sample(answersData, { numRuns: 60, seed: 20261203 });
    const args: string[] = [];
    let items = 0;
    samples.forEach((pairs, i) => {
      const store = snapshotOf(normalizedAnswers(pairs));
      const whole = store.state({});
      items += (JSON.parse(whole).chart_repo?.apps?.length ?? 0) + (JSON.parse(whole).chart_repo?.images?.length ?? 0);
      args.push(file('snapshot', `fuzzed-${i}`, whole), file('snapshot', `fuzzed-${i}-alice`, store.state({ user_id: 'alice' })));
    });
    expect(items).toBeGreaterThan(50);
    const { code, output } = await goClientRun(args);
    expect(code, output).toBe(0);
    expect(output.match(/^ok {3}/gm)?.length, output).toBe(args.length);
  });

  it('fails, naming each, on a missing "always" key, an omitempty key sent with its zero value and a time Go cannot decode', { timeout: 30_000 }, async () => {
    const text = await (await fetch(`${root}${BASE_PATHS[0]}/state`)).text();
    const good = JSON.parse(text) as Json;
    const appKey = Object.keys(good.data.app_states)[0];
    const taskKey = Object.keys(good.data.tasks)[0];

    const keysBroken = structuredClone(good);
    delete keysBroken.data.app_states[appKey].stage;
    keysBroken.data.app_states[appKey].version = '';
    const timeBroken = structuredClone(good);
    timeBroken.data.tasks[taskKey].created_at = '2026-12-01 10:00:00';

    const { code, output } = await goClientRun([
      file('state', 'good', text),
      file('state', 'keys-broken', JSON.stringify(keysBroken)),
      file('state', 'time-broken', JSON.stringify(timeBroken)),
    ]);
    expect(code, output).toBe(1);
    const app = `data.app_states[${JSON.stringify(appKey)}]`;
    expect(output).toMatch(/^ok {3}.*-good\.json/m);
    expect(output).toContain(`${app}.stage: missing: Go writes "", ours has no such key`);
    expect(output).toContain(`${app}.version: ours sends "", Go leaves the key out (omitempty: Go's zero value)`);
    expect(output).toContain(`a Go client cannot decode it: at data.tasks[${JSON.stringify(taskKey)}].created_at: parsing time`);
    expect(output).toContain('2 of 3 files do not decode as Go sends them');
  });
});
