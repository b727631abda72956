/**
 * Whether the process that holds a lock of a queue still exists. A lock word
 * holds its owner's pid, so a process that died while holding it (SIGKILL in
 * the middle of a put) can be recognised and its lock taken over.
 */
import { existsSync, readFileSync } from 'node:fs';

/**
 * True when no live process has this pid: it does not exist, or it is a
 * zombie (killed, not yet reaped by its parent), which will never run again.
 */
export function processGone(pid: number): boolean {
  if (pid === process.pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    return state === 'Z' || state === 'X';
  } catch (error) {
    // ENOENT: gone between the two checks.
    return (error as NodeJS.ErrnoException).code === 'ENOENT' && existsSync('/proc/self');
  }
}
