// Runs the TypeScript entry of this thread from source (Node 20 cannot start a .ts worker directly).
import { register } from 'tsx/esm/api';

register();
await import('./store.ts');
