// postbuild: tsc copies no non-TS files, so the dashboard pages (HTML, ES modules, CSS) are copied to
// dist/src/http/dashboard/, where the built HTTP thread's assetDir() finds them. Then dist/ alone (plus
// production node_modules) is a complete deployment: `node dist/main.js`.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'src/http/dashboard');
// another build's folder, as scripts/bundle-threads.mjs takes it (a variant to benchmark beside dist/)
const outdir = process.argv[2] ?? 'dist';
const to = join(root, outdir, 'src/http/dashboard');
mkdirSync(to, { recursive: true });
const files = readdirSync(from).filter((f) => /\.(html|js|css)$/.test(f));
for (const f of files) copyFileSync(join(from, f), join(to, f));
console.log(`postbuild: ${files.length} dashboard assets -> ${outdir}/src/http/dashboard/`);
