// Build step after tsc: each thread's entry (the main thread's src/main.ts, every worker, and each collector
// module a collector thread imports) is replaced in dist/ by one esbuild bundle of the code that thread runs,
// tree-shaken. A Node isolate keeps the source and compiled functions of every module it loads, in every
// thread: bundled, a thread holds the functions it calls, not every module of every library it imports
// (docs/performance.md). Outputs keep tsc's paths, so the files the code names at run time (threadFile(), the
// collector module URLs) are the bundles; code shared by several entries goes to dist/chunks/, and a dynamic
// import() stays a chunk loaded on first use. Every bundle and chunk that holds src/threads.ts's code sits one
// level below dist/, the depth its relative paths expect. Only the demo stays tsc's output (dist/src/demo/),
// so a production install can leave it out and never loads it.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const root = new URL('../', import.meta.url).pathname;
// another build's folder (a variant to benchmark beside dist/: `npm run bench:scale -- --dist dist-x`)
const outdir = process.argv[2] ?? 'dist';
const collectors = readdirSync(join(root, 'src/collect/collectors')).filter((f) => f.endsWith('.ts'));
const entryPoints = [
  'src/main.ts',
  ...['store', 'http', 'compress', 'collector'].map((t) => `workers/${t}.ts`),
  ...collectors.map((f) => `src/collect/collectors/${f}`),
];

/** src/main.ts's `import('./demo/market.ts')` loads tsc's dist/src/demo/market.js, beside the bundle. */
const demoStaysOutside = {
  name: 'demo-stays-outside',
  setup(b) {
    b.onResolve({ filter: /^\.\/demo\/market\.ts$/ }, () => ({ path: './demo/market.js', external: true }));
  },
};

/** Modules whose code finds files relative to its own URL: built, they must sit one level below dist/. */
const PLACED_BY_URL = ['src/threads.ts', 'src/http/dashboard/routes.ts'];

const result = await build({
  absWorkingDir: root,
  entryPoints,
  outdir,
  outbase: '.',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  chunkNames: 'chunks/[name]-[hash]',
  // Kept as packages: CommonJS ones (an ESM bundle cannot require node's built-ins from them), piscina (its
  // threads start its own file), pino (its transports resolve files at run time), the NATS client.
  external: ['piscina', 'pino', 'prom-client', '@nats-io/*'],
  plugins: [demoStaysOutside],
  logLevel: 'warning',
  metafile: true,
});

// a layout change that moved such code to another depth would start threads from files that do not exist
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  const placed = PLACED_BY_URL.filter((m) => m in output.inputs);
  const depth = relative(outdir, file).split(sep).length - 1;
  if (placed.length > 0 && depth !== 1) {
    console.error(`bundle-threads: ${placed.join(', ')} landed in ${file}, ${depth} levels below ${outdir}/ (must be 1)`);
    process.exit(1);
  }
}
console.log(`postbuild: ${entryPoints.length} thread entries bundled in ${outdir}/ (shared code in ${outdir}/chunks/)`);
