export * from './limits.ts';
export * from './common.ts';
export * from './app-flow.ts';
export * from './task.ts';
export * from './component.ts';
export * from './source.ts';
export * from './chart-repo.ts';
export * from './snapshot.ts';
