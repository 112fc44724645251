// Collector thread entry (a piscina pool of one thread): every task goes to the runtime in src/collect.
import { runInBackground } from '../src/background-priority.ts';
import { CollectorRuntime } from '../src/collect/runtime.ts';
import type { CollectorTask, RunReport } from '../src/protocol.ts';
import { logWarningsAsJson } from '../src/thread-warnings.ts';

logWarningsAsJson('collector');
runInBackground('collector');
const runtime = new CollectorRuntime();

export default function handle(task: CollectorTask): Promise<RunReport> {
  return runtime.handle(task);
}
