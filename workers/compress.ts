// CPU-job thread (piscina): compresses one snapshot body, off the store and HTTP threads.
import { Piscina } from 'piscina';
import { runInBackground } from '../src/background-priority.ts';
import { compressBody, type CompressTask } from '../src/http/compress-job.ts';
import { logWarningsAsJson } from '../src/thread-warnings.ts';

logWarningsAsJson('compress');
runInBackground('compress');

export default function compress(task: CompressTask): unknown {
  const out = compressBody(task);
  return Piscina.move(out);
}
