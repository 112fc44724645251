import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstAfter, SortedIndex, SortedKeys } from '../../src/store/sorted-keys.ts';

describe('keys in string order', () => {
  it('read after any mix of adds and deletes, they are the live keys sorted (property)', () => {
    const op = fc.tuple(fc.constantFrom('add', 'delete', 'read'), fc.string({ maxLength: 3 }));
    fc.assert(fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const keys = new SortedKeys();
      const live = new Set<string>();
      for (const [what, k] of ops) {
        if (what === 'add') { keys.add(k); live.add(k); }
        else if (what === 'delete') { keys.delete(k); live.delete(k); }
        else expect(keys.sorted()).toEqual([...live].sort());
      }
      expect(keys.sorted()).toEqual([...live].sort());
      expect(keys.size).toBe(live.size);
    }));
  });

  it('an array already read is never changed by later adds and deletes (a page being built keeps its order)', () => {
    const keys = new SortedKeys();
    for (const k of ['b', 'd', 'a']) keys.add(k);
    const read = keys.sorted();
    keys.delete('b');
    keys.add('c');
    expect(read).toEqual(['a', 'b', 'd']);
    expect(keys.sorted()).toEqual(['a', 'c', 'd']);
  });

  it('an entity updated in place (deleted and added again) leaves the order as it was', () => {
    const keys = new SortedKeys();
    for (const k of ['b', 'a']) keys.add(k);
    const read = keys.sorted();
    keys.delete('a');
    keys.add('a');
    expect(keys.sorted()).toBe(read);
  });

  it('firstAfter finds where a page starts, whether or not the cursor key is still there', () => {
    const sorted = ['a', 'b', 'd'];
    expect(firstAfter(sorted, '')).toBe(0);
    expect(firstAfter(sorted, 'a')).toBe(1);
    expect(firstAfter(sorted, 'c')).toBe(2);
    expect(firstAfter(sorted, 'd')).toBe(3);
    expect(firstAfter([], 'x')).toBe(0);
  });

  it('an index keeps each value\'s keys in order and forgets a value with none left', () => {
    const index = new SortedIndex();
    index.add('alice', 'alice:m:b');
    index.add('alice', 'alice:m:a');
    index.add('bob', 'bob:m:a');
    expect(index.ordered('alice').sorted()).toEqual(['alice:m:a', 'alice:m:b']);
    index.delete('bob', 'bob:m:a');
    expect(index.get('bob').size).toBe(0);
    expect(index.ordered('bob').sorted()).toEqual([]);
  });
});
