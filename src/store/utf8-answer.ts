/**
 * Pieces of JSON as UTF-8, encoded into one fresh ArrayBuffer (to be transferred: no copy crosses). The pieces are
 * joined into runs of up to RUN_CHARS first: each measure and encode call has a cost of its own whatever its length,
 * and an answer is hundreds of pieces (an app's JSON, a comma, …): a one-user answer is encoded ~2.5× faster so. A run
 * is short-lived and small, so no string of a whole body is made.
 */
export function utf8Of(parts: readonly string[]): ArrayBuffer {
  const runs = runsOf(parts);
  let bytes = 0;
  for (const r of runs) bytes += Buffer.byteLength(r, 'utf8');
  const buffer = new ArrayBuffer(bytes);
  const into = Buffer.from(buffer);
  let at = 0;
  for (const r of runs) at += into.write(r, at, 'utf8');
  return buffer;
}

/** UTF-16 units a run of pieces is joined up to (a piece longer than that is a run of its own) */
export const RUN_CHARS = 64 * 1024;

/** The pieces in order, joined into runs of at least RUN_CHARS units each but the last. */
export function runsOf(parts: readonly string[], max = RUN_CHARS): string[] {
  const runs: string[] = [];
  let from = 0;
  let chars = 0;
  for (let i = 0; i < parts.length; i++) {
    chars += parts[i]!.length;
    if (chars < max) continue;
    runs.push(from === i ? parts[i]! : parts.slice(from, i + 1).join(''));
    from = i + 1;
    chars = 0;
  }
  if (from < parts.length) runs.push(parts.slice(from).join(''));
  return runs;
}
