// Store thread entry: the only owner of runtime state. Wires the control port; the rest is in src/store.
import { parentPort } from 'node:worker_threads';
import { compactWhenFragmented } from '../src/release-memory.ts';
import { StoreActor } from '../src/store/actor.ts';
import { expose } from '../src/threads.ts';
import { logWarningsAsJson } from '../src/thread-warnings.ts';

logWarningsAsJson('store');
// its heap holds the view, fragmented by every commit's replacements (release-memory.ts)
compactWhenFragmented();

expose(new StoreActor(), parentPort);
