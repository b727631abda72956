/**
 * Python's module-level functions about processes: `current_process()`,
 * `parent_process()`, `active_children()`, `cpu_count()`.
 */
import { cpus, availableParallelism } from 'node:os';
import { runtime } from './runtime.js';
import { currentProcessObject, reapChildren, type Process } from './process.js';
import type { ParentProcess } from './parent-process.js';

/** The process object of this OS process: `MainProcess` in the main program, the rebuilt `Process` in a child. */
export function currentProcess(): Process {
  return currentProcessObject();
}

/** The parent of the current process, or null in the main program. */
export function parentProcess(): ParentProcess | null {
  return runtime().parent;
}

/** The live children of the current process; children that have ended are reaped from the list. */
export function activeChildren(): Process[] {
  reapChildren();
  return [...runtime().children];
}

/**
 * The number of CPUs in the system (not necessarily the number this process may
 * use; `os.availableParallelism()` gives that). Throws if it cannot be found.
 */
export function cpuCount(): number {
  const count = cpus().length || availableParallelism();
  if (!count) throw new Error('cannot determine the number of CPUs');
  return count;
}
