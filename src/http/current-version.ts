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
  body: Uint8Array;
  etag: string;
}

/** The store's query API as seen from the HTTP thread, over comlink: every answer is a promise. */
export type AsyncQueries = { [K in keyof StoreQueryApi]: (...a: Parameters<StoreQueryApi[K]>) => Promise<Awaited<ReturnType<StoreQueryApi[K]>>> };
