// Runs the TypeScript entry of this thread from source (Node 20 cannot start a .ts worker directly).
import { register } from 'tsx/esm/api';

register();
const entry = await import('./compress.ts');
export default entry.default;
