import type { StoreQueryApi } from '../protocol.ts';

/**
 * The latest store version as the HTTP thread holds it: the full /state body, built once by the store.
 * Its own file: the app, the raw path, the change stream and the remembered answers all read it, and none of
 * them may import another for a type (no import circles in src/, test/structure/import-circles.test.ts).
 */
export interface CurrentVersion {
  epoch: string;
  version: number;
  /** the store's digest of what this version says (VersionMessage.content): what the ETag names */
  content: string;
  ready: boolean;
  /**
   * the full /state body, once a reader needed it (the store renders it on demand: StoreQueryApi.body);
   * null until then — a 304 needs none
   */
  body: Uint8Array | null;
  /** about how many bytes the body has, never more (VersionMessage.size_hint): decides compression */
  sizeHint: number;
  etag: string;
}

/** A version whose body is here. */
export type VersionWithBody = CurrentVersion & { body: Uint8Array };

/** How a thread gets a version's body: the store renders it on demand (http/version-bodies.ts). */
export type BodyOf = (cur: CurrentVersion) => Promise<VersionWithBody>;

/** The version itself when its body is here; else `fetch` (absent: the body is missing, an error). */
export function withBody(cur: CurrentVersion, fetch?: BodyOf): Promise<VersionWithBody> {
  if (cur.body) return Promise.resolve(cur as VersionWithBody);
  return fetch ? fetch(cur) : Promise.reject(new Error('no body for this version'));
}

/** The store's query API as seen from the HTTP thread, over comlink: every answer is a promise. */
export type AsyncQueries = { [K in keyof StoreQueryApi]: (...a: Parameters<StoreQueryApi[K]>) => Promise<Awaited<ReturnType<StoreQueryApi[K]>>> };
