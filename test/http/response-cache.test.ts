import { describe, expect, it } from 'vitest';
import { ResponseCache } from '../../src/http/response-cache.ts';

describe('ResponseCache', () => {
  it('answers only for the version tag it was stored under', () => {
    const c = new ResponseCache();
    c.set('state?user_id=a', '"e-1-x"', Buffer.from('one'));
    expect(c.get('state?user_id=a', '"e-1-x"')?.toString()).toBe('one');
    expect(c.get('state?user_id=a', '"e-2-x"')).toBeUndefined();
    expect(c.get('state?user_id=b', '"e-1-x"')).toBeUndefined();
  });

  it('drops the least recently used past its entry and byte bounds', () => {
    const c = new ResponseCache(2, 1000);
    c.set('a', 't', Buffer.alloc(10));
    c.set('b', 't', Buffer.alloc(10));
    c.get('a', 't');
    c.set('c', 't', Buffer.alloc(10));
    expect(c.get('b', 't')).toBeUndefined();
    expect(c.get('a', 't')).toBeDefined();
    const small = new ResponseCache(100, 800);
    small.set('x', 't', Buffer.alloc(90));
    small.set('y', 't', Buffer.alloc(90));
    // a body over an eighth of the byte budget is never kept
    small.set('z', 't', Buffer.alloc(200));
    expect(small.get('z', 't')).toBeUndefined();
    expect(small.get('x', 't')).toBeDefined();
  });
});
