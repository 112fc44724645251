// npm run bench:utf8-answer [-- --rounds N]
// What encoding a store answer costs (src/store/utf8-answer.ts utf8Of): joined into runs of RUN_CHARS (what the
// store does) against joined whole (the baseline, the build before), on answers of the sizes a 50,000-app market's
// `?user_id=` load asks (62 kB the median, ~190 kB the mean, 565 kB the largest user), all ASCII and with one
// character past Latin-1. Same process, modes alternated per round; the table gives the median µs per answer
// and the ratio of runs over whole. An answer's string past 128 KiB is a large object: the cost to watch.
import { parseArgs } from 'node:util';
import { JOIN_UP_TO_CHARS, utf8Of } from '../src/store/utf8-answer.ts';
import { median } from './lib/median.ts';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '7' } } });
const ROUNDS = Number(args.rounds);

/** the baseline: the answer joined whole, then encoded in one call */
function joinedWhole(parts: readonly string[]): ArrayBuffer {
  let chars = 0;
  for (const p of parts) chars += p.length;
  if (chars > JOIN_UP_TO_CHARS) throw new Error('the baseline joins small answers only');
  const text = parts.join('');
  const buffer = new ArrayBuffer(Buffer.byteLength(text, 'utf8'));
  Buffer.from(buffer).write(text, 0, 'utf8');
  return buffer;
}

/** an answer of about `kB` of apps' JSON as the store holds it: a member per app, commas between */
function answer(kB: number, twoByte: boolean): string[] {
  const parts = ['{"success":true,"message":"success","data":{"version":1,"app_states":{'];
  for (let i = 0; parts.reduce((n, p) => n + p.length, 0) < kB * 1000; i++) {
    parts.push(i === 0 ? '' : ',', JSON.stringify(`u1:market:app-${i}`) + ':' + JSON.stringify({
      app_name: `app-${i}`, user_id: 'u1', source_id: 'market', stage: 'running', health: 'healthy',
      metadata: { status: { title: i === 7 && twoByte ? 'App（中文）' : `App ${i}`, entrances: [{ name: `app-${i}`, state: 'running' }] } },
    }));
  }
  parts.push('}}}');
  return parts;
}

const modes = { 'joined whole (baseline)': joinedWhole, 'in runs (utf8Of)': utf8Of } as const;
type Mode = keyof typeof modes;
const cases = [62, 190, 565].flatMap((kB) => [false, true].map((twoByte) => ({ kB, twoByte, parts: answer(kB, twoByte) })));

/** µs per answer over ~200 ms of encoding it */
function timeOne(encode: (p: readonly string[]) => ArrayBuffer, parts: readonly string[]): number {
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < 200) { encode(parts); n += 1; }
  return ((performance.now() - t0) / n) * 1000;
}

console.log(`utf8Of: µs per answer, median of ${ROUNDS} rounds (modes alternated)`);
console.log('answer                     joined whole   in runs   runs/whole');
for (const c of cases) {
  const us: Record<Mode, number[]> = { 'joined whole (baseline)': [], 'in runs (utf8Of)': [] };
  for (let r = 0; r < ROUNDS; r++) for (const m of Object.keys(modes) as Mode[]) us[m].push(timeOne(modes[m], c.parts));
  const [whole, runs] = [median(us['joined whole (baseline)']), median(us['in runs (utf8Of)'])];
  const what = `${c.kB} kB${c.twoByte ? ', one CJK char' : ', ASCII'}`;
  console.log(`${what.padEnd(26)}${whole.toFixed(1).padStart(10)} µs${runs.toFixed(1).padStart(8)} µs${(runs / whole).toFixed(2).padStart(11)}x`);
}
