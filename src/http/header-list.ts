import { DATA_HEADERS } from './security.ts';

/**
 * Response headers as node's flat list (`[name, value, name, value, ...]`), for answers written many times
 * with the same headers. `res.writeHead(status, list)` walks a list by index; given an object it walks it
 * with for-in and loads each value by name, and those lookups turn megamorphic once the thread has written
 * headers of many shapes (every Hono route answers with its own) — measured: the 304 path used ~25 % more CPU
 * than the bare server after mixed traffic with objects, and about the same with lists.
 */
export type HeaderList = string[];

/**
 * A data answer's full header list as both paths send it, byte for byte: the security headers (security.ts, the
 * one source Hono's middleware adds too) and the answer's own, named and ordered as Hono's answers reach the
 * wire (a fetch Headers object lower-cases the names and iterates them sorted), then Content-Length when it has
 * a body (added by @hono/node-server after them, in its own spelling).
 */
export function dataHeaderList(headers: Readonly<Record<string, string>>, body: Uint8Array | null): HeaderList {
  const byName = new Map<string, string>();
  for (const [name, value] of Object.entries({ ...DATA_HEADERS, ...headers })) byName.set(name.toLowerCase(), value);
  const list = [...byName].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).flat();
  if (body) list.push('Content-Length', String(body.byteLength));
  return list;
}

/**
 * The same answer to HEAD: Hono's HEAD answers carry the length among the other names (head-length.ts sets it on
 * the Headers), not after them.
 */
export function headHeaderList(list: HeaderList): HeaderList {
  for (let at = 0; at < list.length; at += 2) {
    if (list[at] === 'Content-Length') return withHeader([...list.slice(0, at), ...list.slice(at + 2)], 'content-length', list[at + 1]!);
  }
  return list;
}

/** `list` (a dataHeaderList) with one more header at its place: among the sorted names, before Content-Length. */
export function withHeader(list: HeaderList, name: string, value: string): HeaderList {
  const lower = name.toLowerCase();
  let at = 0;
  while (at < list.length && list[at] !== 'Content-Length' && list[at]! < lower) at += 2;
  return [...list.slice(0, at), lower, value, ...list.slice(at)];
}
