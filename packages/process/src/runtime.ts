/**
 * The per-process record of the process layer: which process object is
 * "current", its parent, its live children, the counter that names new
 * children, and whether the process is still bootstrapping. It lives in a
 * global slot so every copy of this package in one process shares it.
 */
import { lazyBuiltin, randomBytes } from '@mpjs/util';
import { kAuthkey, kRuntime } from './symbols.js';
import type { Process } from './process.js';
import type { ParentProcess } from './parent-process.js';
import type { Launcher } from './launch.js';
import type { StartMethod } from './popen.js';

/** What `Process.start()` asks a context for. */
export interface LauncherSource {
  /** The launcher of the context's start method. */
  launcher(): Launcher;
  /** The context of a start method by name. */
  getContext(method?: string | null): LauncherSource;
}

/** Runtime state of the process layer in this OS process. */
export interface Runtime {
  /** `currentProcess()`. Set when the main process loads this package, replaced by the child bootstrap. */
  current: Process | null;
  /** `parentProcess()`: null in the main process. */
  parent: ParentProcess | null;
  /** Started children not yet known to have ended and been joined. */
  children: Set<Process>;
  /** Numbers the children this process creates (`Process-N`). */
  counter: number;
  /** True in a child until its target is about to run. */
  bootstrapping: boolean;
  /** True in a process started by the bootstrap. */
  isChild: boolean;
  /** The authkey of the main process, created on first use. */
  readonly mainAuthkey: Buffer;
  /** In a child: the start method its parent used, which becomes its default. */
  inheritedStartMethod: StartMethod | null;
  /** The default context (set by context.ts when it loads). */
  defaultContext: LauncherSource | null;
  /** Hooks awaited before a process exits (queue flushes and the like). */
  beforeExitHooks: Set<() => unknown>;
  /** Whether the parent-side exit handling is installed. */
  exitHandlingInstalled: boolean;
}

type Global = typeof globalThis & { [kRuntime]?: Runtime };

/** The runtime record, created on first use. */
export function runtime(): Runtime {
  const g = globalThis as Global;
  let r = g[kRuntime];
  if (!r) {
    let mainAuthkey: Buffer | undefined;
    r = {
      current: null,
      parent: null,
      children: new Set(),
      counter: 1,
      bootstrapping: false,
      isChild: false,
      // A child never needs one of its own (it inherits its parent's): made lazily.
      get mainAuthkey(): Buffer {
        return (mainAuthkey ??= randomBytes(32));
      },
      inheritedStartMethod: null,
      defaultContext: null,
      beforeExitHooks: new Set(),
      exitHandlingInstalled: false,
    };
    Object.defineProperty(g, kRuntime, { value: r, configurable: true, enumerable: false, writable: false });
    // The authkey slot always reflects the current process's key.
    Object.defineProperty(g, kAuthkey, {
      configurable: true,
      enumerable: false,
      get: (): Buffer => (r!.current ? r!.current.authkey : r!.mainAuthkey),
    });
  }
  return r;
}

const workerThreads = lazyBuiltin<typeof import('node:worker_threads')>('node:worker_threads');

/**
 * `isMainThread` of `node:worker_threads`, which is loaded on first use: it is
 * not in Node's start-up snapshot (~0.5 ms to load), and a child needs it only
 * when it starts processes of its own.
 */
export function isMainThread(): boolean {
  return workerThreads().isMainThread;
}
