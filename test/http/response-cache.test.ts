import { describe, expect, it } from 'vitest';
import { ResponseCache } from '../../src/http/response-cache.ts';

/** what the HTTP thread does for one request: look it up, and on a miss keep what the store answered */
function ask(c: ResponseCache, key: string, stamp: string, body = Buffer.from(key), etag = '"t"') {
  return c.get(key, stamp) ?? (c.set(key, stamp, etag, body), undefined);
}

describe('ResponseCache', () => {
  it('keeps an answer from its second asking at one version: one asked once is not held', () => {
    const c = new ResponseCache();
    expect(ask(c, 'state[["user_id","a"]]', 'e 1')).toBeUndefined();
    expect(c.size).toBe(0);
    expect(ask(c, 'state[["user_id","a"]]', 'e 1')).toBeUndefined();
    expect(c.size).toBe(1);
    expect(ask(c, 'state[["user_id","a"]]', 'e 1')?.body.toString()).toBe('state[["user_id","a"]]');
    // asked once at each new version: never held
    for (const v of [2, 3, 4]) ask(c, 'state[["user_id","b"]]', `e ${v}`);
    expect(c.get('state[["user_id","b"]]', 'e 4')).toBeUndefined();
  });

  it('answers only for the store and version it was stored under, with the tag it was served with', () => {
    const c = new ResponseCache();
    ask(c, 'state[["user_id","a"]]', 'e 1');
    ask(c, 'state[["user_id","a"]]', 'e 1', Buffer.from('one'), '"t1"');
    const hit = c.get('state[["user_id","a"]]', 'e 1');
    expect(hit?.body.toString()).toBe('one');
    expect(hit?.etag).toBe('"t1"');
    expect(c.get('state[["user_id","a"]]', 'e 2')).toBeUndefined();
    // the same version number from another store (a restarted store starts its versions again)
    expect(c.get('state[["user_id","a"]]', 'f 1')).toBeUndefined();
    expect(c.get('state[["user_id","b"]]', 'e 1')).toBeUndefined();
    c.clear();
    expect(c.get('state[["user_id","a"]]', 'e 1')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('lets the answers of older versions go when the version moves, keeping those of the new one', () => {
    const c = new ResponseCache();
    for (const key of ['a', 'b']) for (let i = 0; i < 2; i++) ask(c, key, 'e 1');
    for (let i = 0; i < 2; i++) ask(c, 'c', 'e 2');
    expect(c.size).toBe(3);
    c.retireAllBut('e 2');
    expect(c.size).toBe(1);
    expect(c.get('c', 'e 2')?.body.toString()).toBe('c');
  });

  it('keeps an answer kept at the version before from its first asking at the new one', () => {
    const c = new ResponseCache();
    for (let i = 0; i < 2; i++) ask(c, 'kept', 'e 1');
    ask(c, 'once', 'e 1');
    c.retireAllBut('e 2');
    expect(ask(c, 'kept', 'e 2')).toBeUndefined();
    expect(c.get('kept', 'e 2')?.body.toString()).toBe('kept');
    // one asked once before still waits for its second asking
    ask(c, 'once', 'e 2');
    expect(c.get('once', 'e 2')).toBeUndefined();
  });

  it('remembers that the store found nothing, for that version only', () => {
    const c = new ResponseCache();
    c.setMissing('task["gone"]', 'e 1');
    expect(c.get('task["gone"]', 'e 1')?.missing).toBe(true);
    // a new version may hold it again: asked of the store
    expect(c.get('task["gone"]', 'e 2')).toBeUndefined();
  });

  it('when full, keeps the answers it holds for the version: one asked in turn with more does not push them out', () => {
    const c = new ResponseCache(3, 1000);
    // five users asked in turn, over and over at one version: three are served from the cache every round
    let hits = 0;
    for (let round = 0; round < 4; round += 1) for (const u of ['a', 'b', 'c', 'd', 'e']) if (ask(c, u, 's', Buffer.alloc(10))) hits += 1;
    expect(c.size).toBe(3);
    expect(hits).toBe(3 * 2);
    // those of an older version make room for the new version's
    for (let i = 0; i < 2; i++) ask(c, 'f', 't', Buffer.alloc(10));
    expect(c.get('f', 't')).toBeDefined();
    const small = new ResponseCache(100, 800);
    const keep = (key: string, bytes: number) => {
      ask(small, key, 's', Buffer.alloc(bytes));
      ask(small, key, 's', Buffer.alloc(bytes));
    };
    keep('x', 90);
    // a body over an eighth of the byte budget is never kept
    keep('z', 200);
    expect(small.get('z', 's')).toBeUndefined();
    for (const k of ['y1', 'y2', 'y3', 'y4', 'y5', 'y6', 'y7', 'y8']) keep(k, 90);
    expect(small.get('x', 's')).toBeDefined();
    expect(small.get('y8', 's')).toBeUndefined();
  });
});
