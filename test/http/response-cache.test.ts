import { describe, expect, it } from 'vitest';
import { ResponseCache } from '../../src/http/response-cache.ts';

describe('ResponseCache', () => {
  it('answers only for the store and version it was stored under, with the tag it was served with', () => {
    const c = new ResponseCache();
    c.set('state[["user_id","a"]]', 'e 1', '"t1"', Buffer.from('one'));
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

  it('remembers that the store found nothing, for that version only', () => {
    const c = new ResponseCache();
    c.setMissing('task["gone"]', 'e 1');
    expect(c.get('task["gone"]', 'e 1')?.missing).toBe(true);
    // a new version may hold it again: asked of the store
    expect(c.get('task["gone"]', 'e 2')).toBeUndefined();
  });

  it('drops the least recently used past its entry and byte bounds', () => {
    const c = new ResponseCache(2, 1000);
    c.set('a', 's', 't', Buffer.alloc(10));
    c.set('b', 's', 't', Buffer.alloc(10));
    c.get('a', 's');
    c.set('c', 's', 't', Buffer.alloc(10));
    expect(c.get('b', 's')).toBeUndefined();
    expect(c.get('a', 's')).toBeDefined();
    const small = new ResponseCache(100, 800);
    small.set('x', 's', 't', Buffer.alloc(90));
    small.set('y', 's', 't', Buffer.alloc(90));
    // a body over an eighth of the byte budget is never kept
    small.set('z', 's', 't', Buffer.alloc(200));
    expect(small.get('z', 's')).toBeUndefined();
    expect(small.get('x', 's')).toBeDefined();
  });
});
