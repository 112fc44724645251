// HTTP thread entry: exposes the HTTP thread's control (attach store, listen, close) to the supervisor.
import { parentPort, workerData } from 'node:worker_threads';
import type { HttpControlApi, HttpThreadInit } from '../src/protocol.ts';
import { HttpThread } from '../src/http/thread.ts';
import { compactWhenFragmented } from '../src/release-memory.ts';
import { blockFor, expose } from '../src/threads.ts';
import { pinTickShape } from '../src/tick-shape.ts';
import { logWarningsAsJson } from '../src/thread-warnings.ts';

logWarningsAsJson('http');
// its heap holds answers and the change stream's history, replaced version by version (release-memory.ts)
compactWhenFragmented();

// before the first request: keeps process.nextTick on V8's fast path (see tick-shape.ts)
pinTickShape();

// the supervisor's link (thread restart counts in, compression restarts out): see protocol.ts
const data = workerData as HttpThreadInit | null;
const http = new HttpThread(data?.link ?? null, data?.compressLimits, data?.answerCaches);
const control: HttpControlApi = {
  ping: () => true,
  hang: blockFor,
  killCompress: () => http.killCompress(),
  attachStore: http.attachStore.bind(http),
  listen: http.listen.bind(http),
  close: http.close.bind(http),
  drop: () => http.drop(),
};
expose(control, parentPort);
