import fc from 'fast-check';
import { normalizeAnswer, type ChartRepoAnswer } from '../../src/collect/chart-repo.ts';
import { mergeAnswers } from '../../src/collect/chart-repo-merge.ts';
import { RuntimeStore } from '../../src/store/runtime-store.ts';
import { chartFrameOf, chartRepoPairs, pass, type PairAnswer } from './store-fixtures.ts';

/**
 * Chart Repo answers as a hostile or careless Chart Repo could send them (unfamiliar enumerated values, times
 * that are not RFC 3339, durations in any form, missing fields, wrong types), and the store's snapshot of them:
 * for the emulated Go check (test/collect/chart-repo-go-wire.test.ts) and the real Go client
 * (test/e2e/go-client.test.ts).
 */
export const NOW = '2026-12-01T10:00:00.000Z';

const time = fc.oneof(
  fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('0001-01-01T00:00:00Z', '2026-12-01T10:00:00.123456789+05:30', 'yesterday', '2026-13-40T99:00:00Z',
    '2026-12-01 10:00:00', '', '1733047200',
    // impossible dates, and the forms only Go's lenient parser takes
    '2026-02-30T10:00:00Z', '2025-02-29T00:00:00Z', '2026-04-31T23:59:59+02:00', '1900-02-29T00:00:00Z',
    '2026-12-01T9:00:00Z', '2026-12-01T10:00:00,5Z', '2026-12-01T10:00:00.123456789123Z', '2026-12-01T10:00:00+24:00',
    // Go's zero time spelled otherwise: still the zero instant (left out of an omitempty key)
    '0001-01-01T00:00:00+00:00', '0001-01-01T00:00:00.000Z', '0001-01-01T01:00:00+01:00', '0000-12-31T23:00:00-01:00',
    '0001-01-01T0:00:00,0000000000Z'),
  // any day 1-31 of any month: a Go client fails on a day past the month's end
  fc.tuple(fc.integer({ min: 1900, max: 2100 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }))
    .map(([y, m, d]) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}T10:00:00Z`),
  fc.string({ maxLength: 30 }), fc.integer(),
);
const str = (known: string[]) => fc.oneof(fc.constantFrom(...known), fc.string({ maxLength: 12 }), fc.constant('x'.repeat(300)));
const int = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 1e9 }) }, fc.double(), fc.string({ maxLength: 4 }));
const duration = fc.oneof(fc.integer({ min: 0, max: 1e7 }), fc.double({ min: 0, max: 1e7, noNaN: true }),
  fc.constantFrom('2.5s', '150ms', '1h2m3.5s', '0', '-3us', 'soon', '5 minutes'));
/** any field may be missing, null, or of the wrong type now and then */
const maybe = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: a }, fc.constant(null), fc.anything());
const rec = (shape: Record<string, fc.Arbitrary<unknown>>) =>
  fc.record(Object.fromEntries(Object.entries(shape).map(([k, a]) => [k, maybe(a)])), { requiredKeys: [] });

const users = ['alice', 'bob', 'carol'];
const app = rec({
  app_id: fc.string({ maxLength: 8 }), app_name: fc.constantFrom('wiki', 'blog', 'chat'), user_id: fc.constantFrom(...users),
  source_id: fc.constantFrom('market', 'local'), state: str(['pending', 'processing', 'completed', 'failed']),
  current_step: rec({ name: fc.string(), index: int, total: int, status: str(['running', 'retrying']), started_at: time, updated_at: time, retry_count: int }),
  processing: rec({ task_id: fc.string(), duration: int }),
  timestamps: rec({ created_at: time, last_updated_at: time }),
  error: rec({ message: fc.string(), step: fc.string() }),
});
const node = rec({ node_name: fc.string(), architecture: fc.string(), total_size: int, progress: fc.double() });
const image = rec({
  image_name: fc.string({ maxLength: 20 }), app_name: fc.constantFrom('wiki', 'blog'), status: str(['fully_downloaded', 'registry_error']),
  total_size: int, download_progress: fc.double({ noNaN: true }), analysis_status: str(['completed', 'failed']),
  analyzed_at: time, nodes: fc.array(node, { maxLength: 3 }),
});
const htask = rec({ task_id: fc.string(), user_id: fc.constantFrom(...users), status: fc.string(), total_steps: int, retry_count: int, created_at: time, updated_at: time });
const atask = rec({ task_id: fc.string(), status: fc.string(), created_at: time, started_at: time, duration, images_count: int, images: fc.array(fc.string(), { maxLength: 3 }) });
/** the `data` of one (user, source) answer */
const data = rec({
  system: rec({ uptime: int, version: fc.string(), hostname: fc.string(), components: fc.dictionary(fc.string(), fc.jsonValue()) }),
  apps: fc.array(app, { maxLength: 5 }),
  images: fc.array(image, { maxLength: 5 }),
  tasks: rec({
    hydrator: rec({ queue_length: int, active_tasks: int, worker_count: int, tasks: fc.array(htask, { maxLength: 3 }), recent_failed: fc.array(htask, { maxLength: 2 }) }),
    image_analyzer: rec({
      is_running: fc.boolean(), health_status: str(['healthy']), last_check: time, queue_length: int,
      average_analysis_time: duration, recent_completed: fc.array(atask, { maxLength: 3 }), processing_tasks: fc.array(atask, { maxLength: 2 }),
    }),
  }),
});


/** (user, source, answer data) triples: what one Chart Repo pass read */
export const answersData = fc.array(fc.tuple(fc.constantFrom(...users), fc.constantFrom('market', 'local'), data), { maxLength: 4 });

/**
 * The normalized answers of those triples (an answer the normalizer refuses whole is left out, as a pass does), each
 * for its pair (its images name it).
 */
export function normalizedAnswers(pairs: [string, string, unknown][]): { user: string; source: string; answer: ChartRepoAnswer }[] {
  return pairs.flatMap(([user, source, d]) => {
    const r = normalizeAnswer({ success: true, data: d }, NOW, { user, source });
    return r.ok ? [{ user, source, answer: r.answer }] : [];
  });
}

/**
 * A store that applied one Chart Repo pass of these answers and committed it: the Chart Repo's own blocks those the
 * first answer with each gives (as Go's merge keeps them). A pair listed twice is held once, as its last answer.
 */
export function snapshotOf(answers: { user: string; source: string; answer: ChartRepoAnswer }[]): RuntimeStore {
  const store = new RuntimeStore(() => new Date(NOW));
  const frame = chartFrameOf(mergeAnswers(answers.map((a) => a.answer), NOW));
  store.apply(pass('chart_repo', [chartRepoPairs(answers, frame)], { finished_at: NOW }));
  store.commit();
  return store;
}

/**
 * One user's answer (source market, normalized at NOW) naming the app wiki in `state`, its image, and a hydrator
 * queue of `queue`: for the tests of what a filtered reader sees when only another user's items move.
 */
export function wikiAnswer(user: string, state: string, queue = 1): PairAnswer {
  const r = normalizeAnswer({ success: true, data: {
    apps: [{ app_id: 'wiki', app_name: 'wiki', user_id: user, source_id: 'market', state }],
    images: [{ image_name: `wiki-${user}:1`, app_name: 'wiki', status: 'fully_downloaded' }],
    tasks: { hydrator: { queue_length: queue, tasks: [{ task_id: `t-${user}` }] } },
  } }, NOW, { user, source: 'market' });
  if (!r.ok) throw new Error(r.error);
  return { user, source: 'market', answer: r.answer };
}
