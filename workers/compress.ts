// CPU-job thread (piscina): compresses one snapshot body, off the store and HTTP threads.
import { Piscina } from 'piscina';
import { runInBackground } from '../src/background-priority.ts';
import { compressJob, type CompressTask } from '../src/http/compress-job.ts';
import { logWarningsAsJson } from '../src/thread-warnings.ts';

logWarningsAsJson('compress');
runInBackground('compress');

export default function compress(task: CompressTask): unknown {
  const result = compressJob(task);
  // the compressed bytes move to the HTTP thread (not copied); the memory report rides along
  // (piscina's Transferable shape: its symbols are typed as plain symbols, hence the cast)
  const movable = { [Piscina.transferableSymbol]: result.body.buffer, [Piscina.valueSymbol]: result };
  return Piscina.move(movable as unknown as Parameters<typeof Piscina.move>[0]);
}
