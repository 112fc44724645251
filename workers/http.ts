// HTTP thread entry: exposes the HTTP thread's control (attach store, listen, close) to the supervisor.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { HttpThread } from '../src/http/thread.ts';
import { expose } from '../src/threads.ts';
import { pinTickShape } from '../src/tick-shape.ts';

// before the first request: keeps process.nextTick on V8's fast path (see tick-shape.ts)
pinTickShape();

// the supervisor's link (thread restart counts in, compression restarts out): see protocol.ts
const http = new HttpThread((workerData as { link?: MessagePort } | null)?.link ?? null);
expose({
  attachStore: http.attachStore.bind(http),
  listen: http.listen.bind(http),
  close: http.close.bind(http),
}, parentPort);
