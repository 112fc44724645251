// HTTP thread entry: exposes the HTTP thread's control (attach store, listen, close) to the supervisor.
import { parentPort } from 'node:worker_threads';
import { HttpThread } from '../src/http/thread.ts';
import { expose } from '../src/threads.ts';

const http = new HttpThread();
expose({
  attachStore: http.attachStore.bind(http),
  listen: http.listen.bind(http),
  close: http.close.bind(http),
}, parentPort);
