import { readFileSync } from 'node:fs';
import { statCpuSeconds } from '../../src/thread-memory.ts';

/** CPU time of a process so far (all threads), in milliseconds, from /proc: in user space and in the kernel. */
export function cpuSplitMs(pid: number): { user: number; system: number } {
  const { user, system } = statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  return { user: user * 1000, system: system * 1000 };
}

/** CPU time (user + system, all threads) of a process so far, in milliseconds, from /proc. */
export function cpuMs(pid: number): number {
  const { user, system } = cpuSplitMs(pid);
  return user + system;
}

/** Resident memory of a process, in MiB. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}
