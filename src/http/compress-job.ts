import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { CompressTask, Encoding, ThreadMemory } from '../protocol.ts';
import { threadMemory } from '../thread-memory.ts';

export type { CompressTask, Encoding };

/** Bodies smaller than this go out as they are: compressing them costs more than it saves. */
export const MIN_COMPRESS_BYTES = 2048;

/**
 * Levels chosen for a body compressed once per version and sent many times: brotli 5 and gzip 6 give
 * most of the size win at a few milliseconds per megabyte.
 */
export function compressBody(task: CompressTask): Uint8Array {
  const input = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength);
  const out = task.encoding === 'br'
    ? brotliCompressSync(input, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 5,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: input.length,
      },
    })
    : gzipSync(input, { level: 6 });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** What a compression job answers: the compressed body, and its thread's memory after it (the /metrics per thread). */
export interface CompressResult {
  body: Uint8Array;
  memory: ThreadMemory;
}

export function compressJob(task: CompressTask): CompressResult {
  const body = compressBody(task);
  return { body, memory: threadMemory() };
}

/** The encoding to send for an Accept-Encoding header: br over gzip, none when neither is acceptable. */
export function negotiate(acceptEncoding: string | undefined): Encoding | null {
  if (!acceptEncoding) return null;
  let br = false;
  let gzip = false;
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q !== undefined && Number(q.slice(2)) <= 0) continue;
    if (name === 'br') br = true;
    else if (name === 'gzip' || name === 'x-gzip' || name === '*') gzip = true;
  }
  return br ? 'br' : gzip ? 'gzip' : null;
}
