// N change-stream clients in their own process (argv: url, n), reading and discarding every byte, so the
// benchmark process measuring latency is not also the one parsing 100 streams. Prints "ready" once every
// stream has sent its first bytes.
import { Agent, get } from 'node:http';

const [url, n] = [process.argv[2]!, Number(process.argv[3])];
const agent = new Agent({ keepAlive: true, maxSockets: n });
let started = 0;
for (let i = 0; i < n; i++) {
  get(url, { agent }, (res) => {
    let first = true;
    res.on('data', () => {
      if (first && ++started === n) process.stdout.write('ready\n');
      first = false;
    });
  });
}
process.on('SIGTERM', () => process.exit(0));
