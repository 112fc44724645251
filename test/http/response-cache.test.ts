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

  it('remembers that the store found nothing, for that version only', () => {
    const c = new ResponseCache();
    c.setMissing('task["gone"]', 'e 1');
    expect(c.get('task["gone"]', 'e 1')?.missing).toBe(true);
    // a new version may hold it again: asked of the store
    expect(c.get('task["gone"]', 'e 2')).toBeUndefined();
  });

  it('drops the least recently used past its entry and byte bounds', () => {
    const c = new ResponseCache(2, 1000);
    const keep = (cache: ResponseCache, key: string, bytes: number) => {
      ask(cache, key, 's', Buffer.alloc(bytes));
      ask(cache, key, 's', Buffer.alloc(bytes));
    };
    keep(c, 'a', 10);
    keep(c, 'b', 10);
    c.get('a', 's');
    keep(c, 'c', 10);
    expect(c.get('b', 's')).toBeUndefined();
    expect(c.get('a', 's')).toBeDefined();
    const small = new ResponseCache(100, 800);
    keep(small, 'x', 90);
    keep(small, 'y', 90);
    // a body over an eighth of the byte budget is never kept
    keep(small, 'z', 200);
    expect(small.get('z', 's')).toBeUndefined();
    expect(small.get('x', 's')).toBeDefined();
  });
});
