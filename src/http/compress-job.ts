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
function compressBody(task: CompressTask): Uint8Array {
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

/**
 * The encoding to send for an Accept-Encoding header (RFC 9110, 12.5.3): the acceptable one the client weighs
 * most, br on a tie; `*` stands only for codings the header does not name; an element whose q is not a
 * qvalue is passed over. None (identity) when neither br nor gzip is acceptable.
 */
export function negotiate(acceptEncoding: string | undefined): Encoding | null {
  if (!acceptEncoding) return null;
  const weights = new Map<string, number>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [rawName, ...params] = part.split(';');
    const name = rawName!.trim();
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))?.slice(2);
    if (q !== undefined && !QVALUE.test(q)) continue;
    const weight = q === undefined ? 1 : Number(q);
    const key = name === 'x-gzip' ? 'gzip' : name;
    weights.set(key, Math.max(weights.get(key) ?? 0, weight));
  }
  const star = weights.get('*') ?? 0;
  const br = weights.get('br') ?? star;
  const gzip = weights.get('gzip') ?? star;
  if (br <= 0 && gzip <= 0) return null;
  return br >= gzip ? 'br' : 'gzip';
}
/** RFC 9110's qvalue: 0 to 1 with at most three decimals */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;
