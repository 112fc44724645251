import { describe, expect, it } from 'vitest';
import { appKey, LIMITS, type AppFlowState } from '../../src/model/index.ts';
import type { AppFilter, PassMessage } from '../../src/protocol.ts';
import { CURSOR_MAX_CHARS, decodeCursor, encodeCursor } from '../../src/store/page-cursor.ts';
import { RuntimeStore } from '../../src/store/runtime-store.ts';
import { app, pass, T0 } from '../helpers/store-fixtures.ts';

/** …/apps pages, as the store answers them: key order, filters, totals, cursors across versions. */

const NOW = '2026-11-25T11:00:00.000Z';

const upsert = (...items: AppFlowState[]): PassMessage => pass('app_flow', [{ op: 'upsert', domain: 'app_states', items }]);
const remove = (...keys: string[]): PassMessage => pass('app_flow', [{ op: 'remove', domain: 'app_states', keys }]);
const keyOf = (a: AppFlowState) => appKey(a);

interface Page { version: number; total: number; items: AppFlowState[]; next_cursor: string | null }

/** One page, at the store's latest version (the store thread commits before every query). */
function page(s: RuntimeStore, f: AppFilter = {}, limit = 100, cursor: string | null = null): Page {
  s.commit();
  return JSON.parse(s.appsPage(f, limit, cursor === null ? null : decodeCursor(cursor)));
}

/** Every page of a listing, following next_cursor; `between` runs before each next page. */
function listAll(s: RuntimeStore, f: AppFilter = {}, limit = 100, between?: (pageNo: number) => void): Page[] {
  const pages = [page(s, f, limit)];
  while (pages.at(-1)!.next_cursor !== null) {
    between?.(pages.length);
    pages.push(page(s, f, limit, pages.at(-1)!.next_cursor));
  }
  return pages;
}

/**
 * 1,000 apps of 10 users on two sources, in no order; every 7th has been installing for an hour (stuck, health
 * unknown), every 11th other one began installing just now (watched, not stuck, no health reported yet); every 13th
 * of the rest is stopped and unhealthy.
 */
function thousand(): { store: RuntimeStore; apps: AppFlowState[] } {
  const apps: AppFlowState[] = [];
  for (let i = 0; i < 1000; i++) {
    const n = (i * 389) % 1000; // a permutation: the store gets them unsorted
    const installing = n % 7 === 0 ? T0 : n % 11 === 0 ? NOW : undefined;
    apps.push(app(`user${n % 10}`, n % 3 === 0 ? 'local' : 'market', `app${String(n).padStart(4, '0')}`,
      installing ? { stage: 'installing', health: installing === T0 ? 'unknown' : undefined, stage_since: installing }
        : n % 13 === 0 ? { stage: 'stopped', health: 'unhealthy' } : {}));
  }
  const store = new RuntimeStore(() => new Date(NOW));
  store.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: apps }]));
  return { store, apps };
}

const sortedKeys = (apps: AppFlowState[]) => apps.map(keyOf).sort();
const stuck = (a: AppFlowState) => a.stage_since === T0;

describe('…/apps pages', () => {
  it('paging through 1,000 apps by 100 returns each app once, in key order, and ends with a null cursor', () => {
    const { store, apps } = thousand();
    const pages = listAll(store);
    expect(pages).toHaveLength(10);
    for (const p of pages) {
      expect(p.total).toBe(1000);
      expect(p.items).toHaveLength(100);
    }
    expect(pages.flatMap((p) => p.items.map(keyOf))).toEqual(sortedKeys(apps));
    expect(pages.slice(0, -1).every((p) => typeof p.next_cursor === 'string')).toBe(true);
    expect(pages.at(-1)!.next_cursor).toBeNull();
  });

  it('items are the apps as /state has them', () => {
    const { store } = thousand();
    const first = page(store, {}, 3);
    const state = JSON.parse(store.body()).data.app_states;
    expect(first.items).toHaveLength(3);
    for (const a of first.items) expect(a).toEqual(state[keyOf(a)]);
    expect(first.version).toBe(store.version);
  });

  it.each<[string, AppFilter, (a: AppFlowState) => boolean]>([
    ['user_id', { user_id: 'user3' }, (a) => a.user_id === 'user3'],
    ['source_id', { source_id: 'local' }, (a) => a.source_id === 'local'],
    ['app_name', { app_name: 'app0042' }, (a) => a.app_name === 'app0042'],
    ['stuck=true', { stuck: true }, stuck],
    ['stuck=false', { stuck: false }, (a) => !stuck(a)],
    ['user_id and stuck', { user_id: 'user7', stuck: true }, (a) => a.user_id === 'user7' && stuck(a)],
    ['user_id and source_id', { user_id: 'user2', source_id: 'market' }, (a) => a.user_id === 'user2' && a.source_id === 'market'],
    ['a user with no apps', { user_id: 'nobody' }, () => false],
    ['stage', { stage: 'stopped' }, (a) => a.stage === 'stopped'],
    ['stage=running', { stage: 'running' }, (a) => a.stage === 'running'],
    ['health=unhealthy', { health: 'unhealthy' }, (a) => a.health === 'unhealthy'],
    ['health=healthy', { health: 'healthy' }, (a) => a.health === 'healthy'],
    // reported unknown or not reported at all: the apps the summary counts neither healthy nor unhealthy
    ['health=unknown', { health: 'unknown' }, (a) => a.stage === 'installing'],
    ['user_id and health=unknown', { user_id: 'user4', health: 'unknown' }, (a) => a.user_id === 'user4' && a.stage === 'installing'],
    ['stuck=false and health=unknown', { stuck: false, health: 'unknown' }, (a) => a.stage === 'installing' && !stuck(a)],
    ['stage and health', { stage: 'installing', health: 'unknown' }, (a) => a.stage === 'installing'],
    ['stage and stuck=false', { stage: 'installing', stuck: false }, (a) => a.stage === 'installing' && !stuck(a)],
    ['user_id, stage and health', { user_id: 'user3', stage: 'stopped', health: 'unhealthy' }, (a) => a.user_id === 'user3' && a.stage === 'stopped'],
    ['source_id and health', { source_id: 'local', health: 'healthy' }, (a) => a.source_id === 'local' && a.health === 'healthy'],
    ['a stage no app is in', { stage: 'uninstalling' }, () => false],
    ['a stage and a health no app has together', { stage: 'stopped', health: 'healthy' }, () => false],
  ])('the %s filter narrows items and total', (name, filter, keeps) => {
    const { store, apps } = thousand();
    const expected = sortedKeys(apps.filter(keeps));
    if (!/no app/.test(name)) expect(expected.length, 'the filter keeps some apps').toBeGreaterThan(0);
    const pages = listAll(store, filter, 30);
    expect(pages.flatMap((p) => p.items.map(keyOf))).toEqual(expected);
    for (const p of pages) expect(p.total).toBe(expected.length);
    expect(pages.at(-1)!.next_cursor).toBeNull();
  });

  it('an app changing stage between pages joins or leaves a stage listing; totals follow', () => {
    const { store, apps } = thousand();
    const stopped = sortedKeys(apps.filter((a) => a.stage === 'stopped'));
    const byKey = new Map(apps.map((a) => [keyOf(a), a]));
    const lastKey = stopped.at(-1)!;
    const first = page(store, { stage: 'stopped' }, 10);
    expect(first.items.map(keyOf)).toEqual(stopped.slice(0, 10));
    // past the cursor: one stopped app starts running, one running app stops
    const starting = lastKey;
    const stopping = sortedKeys(apps.filter((a) => a.stage === 'running')).find((k) => k > stopped[10]!)!;
    store.apply(upsert({ ...byKey.get(starting)!, stage: 'running', health: 'healthy' }));
    store.apply(upsert({ ...byKey.get(stopping)!, stage: 'stopped', health: 'unhealthy' }));
    const rest = page(store, { stage: 'stopped' }, 1000, first.next_cursor);
    const expected = [...stopped.slice(10).filter((k) => k !== starting), stopping].sort();
    expect(rest.items.map(keyOf)).toEqual(expected);
    expect(rest.total).toBe(stopped.length);
    // a new listing, 10 at a time, sees the same
    const again = listAll(store, { stage: 'stopped' }, 10);
    expect(again.flatMap((p) => p.items.map(keyOf))).toEqual([...stopped.slice(0, 10), ...expected]);
    expect(page(store, { health: 'unhealthy' }, 1).total).toBe(stopped.length);
    expect(page(store, { stage: 'running', health: 'healthy' }, 1).total).toBe(apps.filter((a) => a.stage === 'running').length);
  });

  it('health=unknown counts what the summary leaves out of healthy and unhealthy, as apps gain and lose a health', () => {
    const { store, apps } = thousand();
    const unknownTotal = () => {
      const p = page(store, { health: 'unknown' }, 1);
      const { total_apps, healthy_apps, unhealthy_apps } = JSON.parse(store.body()).data.summary;
      expect(p.total).toBe(total_apps - healthy_apps - unhealthy_apps);
      return p.total;
    };
    const installing = apps.filter((a) => a.stage === 'installing');
    expect(unknownTotal()).toBe(installing.length);
    const noHealth = installing.find((a) => a.health === undefined)!;
    const healthy = apps.find((a) => a.health === 'healthy')!;
    // one app's health becomes known, another's is no longer reported
    store.apply(upsert({ ...noHealth, stage: 'running', health: 'healthy' }));
    store.apply(upsert({ ...healthy, stage: 'installing', health: undefined }));
    expect(unknownTotal()).toBe(installing.length);
    const listed = listAll(store, { health: 'unknown' }, 25).flatMap((p) => p.items.map(keyOf));
    expect(listed).toContain(keyOf(healthy));
    expect(listed).not.toContain(keyOf(noHealth));
    store.apply(remove(keyOf(healthy)));
    expect(unknownTotal()).toBe(installing.length - 1);
  });

  it('a full last page has no next page', () => {
    const { store } = thousand();
    const pages = listAll(store, { user_id: 'user0' }, 50);
    expect(pages.map((p) => p.items.length)).toEqual([50, 50]);
    expect(pages[1]!.next_cursor).toBeNull();
  });

  it('an app added after the cursor between pages is shown; one added before it is not; a removed one is skipped', () => {
    const { store, apps } = thousand();
    const shown: string[] = [];
    const pages = listAll(store, {}, 100, (pageNo) => {
      if (pageNo !== 3) return;
      // the listing has shown user0…user2 so far: keys sort by user first
      store.apply(upsert(app('user0', 'market', 'late-early'), app('user9', 'market', 'late-after')));
      store.apply(remove(keyOf(apps.find((a) => a.user_id === 'user8')!)));
    });
    for (const p of pages) shown.push(...p.items.map(keyOf));
    expect(shown).toContain('user9:market:late-after');
    expect(shown).not.toContain('user0:market:late-early');
    expect(shown).not.toContain(keyOf(apps.find((a) => a.user_id === 'user8')!));
    expect(new Set(shown).size).toBe(shown.length);
    expect(shown).toEqual([...shown].sort());
    // the version tells the client its pages came from different versions; the total is each page's own
    expect(pages[2]!.version).toBeLessThan(pages[3]!.version);
    expect(pages[2]!.total).toBe(1000);
    expect(pages[3]!.total).toBe(1001);
  });

  it('an app renamed into the range already paged is not shown again; its content changing moves nothing', () => {
    const { store } = thousand();
    const first = page(store, {}, 100);
    const last = first.items.at(-1)!;
    // content change of a paged app, and an app "renamed" (removed, added under another key) before the cursor
    store.apply(upsert({ ...first.items[0]!, stage_detail: 'changed' }));
    const later = page(store, {}, 900, first.next_cursor);
    const moved = later.items[10]!;
    store.apply(remove(keyOf(moved)));
    store.apply(upsert({ ...moved, user_id: 'user0', source_id: 'local', app_name: 'aa-renamed' }));
    expect('user0:local:aa-renamed' < keyOf(last)).toBe(true);
    const rest = page(store, {}, 1000, first.next_cursor);
    expect(rest.items.map(keyOf)).not.toContain(keyOf(moved));
    expect(rest.items.map(keyOf)).not.toContain('user0:local:aa-renamed');
    expect(rest.items.every((a) => keyOf(a) > keyOf(last))).toBe(true);
    expect(rest.items).toHaveLength(899);
  });

  it('a cursor is the key of the last item, encoded, and only such cursors decode', () => {
    const { store } = thousand();
    const first = page(store, {}, 2);
    expect(decodeCursor(first.next_cursor!)).toBe(keyOf(first.items[1]!));
    for (const key of ['alice:market:firefox', 'ünï:a&b:日本😀', 'x:y:\u0001']) expect(decodeCursor(encodeCursor(key))).toBe(key);
    // the longest key an app can have, every character at its longest in JSON, fits the limit the API states
    const id = '\u0001'.repeat(LIMITS.id);
    const longest = encodeCursor(`${id}:${id}:${id}`);
    expect(longest.length).toBe(CURSOR_MAX_CHARS);
    expect(decodeCursor(longest)).toBe(`${id}:${id}:${id}`);
    for (const garbage of ['', 'abc', 'not base64!', encodeCursor('k') + 'A', Buffer.from('{"after":1}').toString('base64url'),
      Buffer.from('{"after":"k","x":1}').toString('base64url'), Buffer.from('"k"').toString('base64url')]) {
      expect(decodeCursor(garbage), garbage).toBeNull();
    }
  });
});
