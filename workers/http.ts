// HTTP thread entry: exposes the HTTP thread's control (attach store, listen, close) to the supervisor.
import { parentPort, workerData, type MessagePort, type ResourceLimits } from 'node:worker_threads';
import { HttpThread } from '../src/http/thread.ts';
import { blockFor, expose } from '../src/threads.ts';
import { pinTickShape } from '../src/tick-shape.ts';

// before the first request: keeps process.nextTick on V8's fast path (see tick-shape.ts)
pinTickShape();

// the supervisor's link (thread restart counts in, compression restarts out): see protocol.ts
const data = workerData as { link?: MessagePort; compressLimits?: ResourceLimits } | null;
const http = new HttpThread(data?.link ?? null, data?.compressLimits);
expose({
  ping: () => true,
  hang: blockFor,
  attachStore: http.attachStore.bind(http),
  listen: http.listen.bind(http),
  close: http.close.bind(http),
}, parentPort);
