// Store thread entry: the only owner of runtime state. Wires the control port; the rest is in src/store.
import { parentPort } from 'node:worker_threads';
import { StoreActor } from '../src/store/actor.ts';
import { expose } from '../src/threads.ts';
import { logWarningsAsJson } from '../src/thread-warnings.ts';

logWarningsAsJson('store');

expose(new StoreActor(), parentPort);
