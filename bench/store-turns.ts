// npm run bench:store-turns [-- --pairs N --apps N --json]
// How long a reader can wait for the store while it takes a Chart Repo pass in which two answers in three
// changed: the pass applied in one turn (the baseline, as a store that does not work a pass out ahead), and the
// pass worked out in turns first (StoreActor.receiveInTurns, what the store thread does). The longest turn is the
// event loop's longest delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution) over the pass and its commit.
// Same process, same passes, rounds alternated; the ratio is the longest turn in turns over the baseline's.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { normalizeAnswer } from '../src/collect/chart-repo.ts';
import { StoreActor } from '../src/store/actor.ts';
import { chartRepoPairs, pass, T0 } from '../test/helpers/store-fixtures.ts';
import { median } from './lib/median.ts';

const { values: args } = parseArgs({ options: {
  pairs: { type: 'string', default: '1000' }, apps: { type: 'string', default: '50' }, rounds: { type: 'string', default: '4' },
  json: { type: 'boolean', default: false },
} });
const PAIRS = Number(args.pairs);
const APPS = Number(args.apps);
const ROUNDS = Number(args.rounds);

/** every (user, market) pair's answer: APPS apps and their images; two pairs in three change with `round` */
function chartPass(round: number, seq: number) {
  const answers = Array.from({ length: PAIRS }, (_, p) => {
    const user = `u${p}`;
    const v = p % 3 === 0 ? 0 : round;
    const r = normalizeAnswer({ success: true, data: {
      apps: Array.from({ length: APPS }, (_, a) => ({
        app_id: `a${a}`, app_name: `a${a}`, user_id: user, source_id: 'market', state: v % 2 ? 'downloading' : 'completed',
        processing: { task_id: `t${a}-${v}` },
      })),
      images: Array.from({ length: APPS }, (_, a) => ({ image_name: `img${a}-${user}:1`, app_name: `a${a}`, status: 'downloading', download_progress: v % 100 })),
    } }, T0, { user, source: 'market' });
    if (!r.ok) throw new Error(r.error);
    return { user, source: 'market', answer: r.answer };
  });
  return pass('chart_repo', [chartRepoPairs(answers)], {}, seq);
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

const actor = new StoreActor();
actor.expectSources(['chart_repo']);
actor.receive(chartPass(0, 1));
actor.flush();

const modes = {
  'one turn (baseline)': async (msg: ReturnType<typeof chartPass>) => { actor.receive(msg); },
  'worked out in turns': async (msg: ReturnType<typeof chartPass>) => { await actor.receiveInTurns(msg); },
};
type Mode = keyof typeof modes;
const longest: Record<Mode, number[]> = { 'one turn (baseline)': [], 'worked out in turns': [] };
const total: Record<Mode, number[]> = { 'one turn (baseline)': [], 'worked out in turns': [] };
let seq = 2;
for (let round = 1; round <= ROUNDS; round++) {
  for (const mode of Object.keys(modes) as Mode[]) {
    const msg = chartPass(seq, seq);
    seq += 1;
    await tick();
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    // (the histogram times from a turn of its own: a block in the turn that enabled it is not seen)
    await new Promise((resolve) => setTimeout(resolve, 5));
    const started = performance.now();
    await modes[mode](msg);
    actor.flush();
    total[mode].push(performance.now() - started);
    await tick();
    await new Promise((resolve) => setTimeout(resolve, 5));
    delay.disable();
    longest[mode].push(delay.max / 1e6);
  }
}

const rows = (Object.keys(modes) as Mode[]).map((mode) => ({
  mode, longest_turn_ms: median(longest[mode]), worst_ms: Math.max(...longest[mode]), pass_ms: median(total[mode]),
}));
const ratio = rows[1]!.longest_turn_ms / rows[0]!.longest_turn_ms;
if (args.json) {
  console.log(JSON.stringify({ pairs: PAIRS, apps_per_pair: APPS, rows, ratio }));
} else {
  console.log(`A Chart Repo pass: ${PAIRS} pairs of ${APPS} apps and ${APPS} images, two pairs in three changed; median of ${ROUNDS} rounds`);
  console.log('mode                      longest turn   worst   whole pass');
  for (const r of rows) console.log(`${r.mode.padEnd(26)}${r.longest_turn_ms.toFixed(1).padStart(9)} ms${r.worst_ms.toFixed(1).padStart(8)}${r.pass_ms.toFixed(1).padStart(10)} ms`);
  console.log(`longest turn in turns / one turn: ${ratio.toFixed(2)}x`);
}
