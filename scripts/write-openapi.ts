// npm run openapi: writes openapi.json (the document GET …/openapi.json serves); a test fails while it is stale
import { writeFileSync } from 'node:fs';
import { openApiText } from '../src/http/openapi.ts';

const target = new URL('../openapi.json', import.meta.url);
writeFileSync(target, openApiText());
console.log(`wrote ${target.pathname}`);
