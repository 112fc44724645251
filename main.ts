// Production entry: `npm run build` emits this as dist/main.js, so the image runs `node dist/main.js`.
// Everything lives in src/main.ts; from source, `npm start` runs that file directly.
import { main } from './src/main.ts';

await main();
