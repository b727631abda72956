/**
 * Contexts and start methods (Python's `context.py`). A context has the API
 * of the package — `ctx.Process({...})` and, once the other packages add
 * theirs, `ctx.Queue()`, `ctx.Lock()`… — bound to one start method. The
 * default context lets the program choose the start method once
 * (`setStartMethod()`); `getContext(method)` gives a context for one method
 * without touching the default.
 *
 * Node cannot `fork()` a running interpreter, so the methods are `spawn` (the
 * default) and `forkserver` (warm interpreters, starts in milliseconds);
 * asking for `fork` explains that.
 *
 * Other packages extend `BaseContext` with their factories (module
 * augmentation plus a method on `BaseContext.prototype`).
 */
import {
  AuthenticationError,
  BufferTooShort,
  getLogger,
  logToStderr,
  ProcessError,
  TimeoutError,
  ValueError,
  type Logger,
  type LogLevelName,
} from '@mpjs/util';
import { Process, type ProcessOptions } from './process.js';
import { activeChildren, cpuCount, currentProcess, parentProcess } from './current.js';
import type { ParentProcess } from './parent-process.js';
import { runtime, type LauncherSource } from './runtime.js';
import type { Launcher } from './launch.js';
import type { StartMethod } from './popen.js';
import { setExecArgv, setExecutable } from './exec-options.js';
import { spawnLauncher } from './start-methods/spawn.js';
import {
  ensureForkserverRunning,
  forkserverLauncher,
  setForkserverPoolSize,
  setForkserverPreload,
  stopForkserver,
} from './start-methods/forkserver.js';

/** Options of `setStartMethod()`. */
export interface SetStartMethodOptions {
  /** Replace a start method that was already set (Python's `force=True`). */
  force?: boolean;
}

const FORK_UNAVAILABLE =
  "start method 'fork' is not available: Node.js cannot fork a running interpreter " +
  "(its threads and event loop do not survive fork()). Use 'spawn' (a fresh interpreter per process) " +
  "or 'forkserver' (warm interpreters handed a process in milliseconds).";

/** Python's `BaseContext`: the package's API, bound to a start method. */
export class BaseContext implements LauncherSource {
  /** Base class of the package's errors. */
  readonly ProcessError = ProcessError;
  /** Raised by `recvBytesInto()` when the buffer is too small. */
  readonly BufferTooShort = BufferTooShort;
  /** Raised when a wait times out. */
  readonly TimeoutError = TimeoutError;
  /** Raised when the authentication handshake fails. */
  readonly AuthenticationError = AuthenticationError;

  /** A `Process` started with this context's start method (called without `new`). */
  Process(options: ProcessOptions = {}): Process {
    return new Process({ ...options, context: this.contextForProcesses() });
  }

  /** The context processes created by `ctx.Process()` start with; null means "the default, resolved at start()". */
  protected contextForProcesses(): LauncherSource | null {
    return this;
  }

  /** The launcher of this context's start method. */
  launcher(): Launcher {
    throw new ProcessError('this context has no start method; use getContext("spawn") or getContext("forkserver")');
  }

  /** `currentProcess()`. */
  currentProcess(): Process {
    return currentProcess();
  }

  /** `parentProcess()`. */
  parentProcess(): ParentProcess | null {
    return parentProcess();
  }

  /** `activeChildren()`. */
  activeChildren(): Process[] {
    return activeChildren();
  }

  /** `cpuCount()`. */
  cpuCount(): number {
    return cpuCount();
  }

  /** The context of `method`, or this context when omitted. Throws ValueError for unknown or unavailable methods. */
  getContext(method: 'forkserver'): ForkServerContext;
  getContext(method: 'spawn'): SpawnContext;
  getContext(method?: string | null): BaseContext;
  getContext(method?: string | null): BaseContext {
    if (method === undefined || method === null) return this;
    if (method === 'fork') throw new ValueError(FORK_UNAVAILABLE);
    const context = concreteContexts.get(method as StartMethod);
    if (!context) {
      throw new ValueError(`cannot find context for ${JSON.stringify(method)}: the start methods are ${getAllStartMethods().map((m) => `'${m}'`).join(' and ')}`);
    }
    return context;
  }

  /** The start method of this context. */
  getStartMethod(_allowNone?: boolean): StartMethod | null {
    return null;
  }

  /** Only the default context's start method can be set. */
  setStartMethod(_method: string | null, _options?: SetStartMethodOptions): void {
    throw new ValueError('cannot set start method of concrete context');
  }

  /** The start methods available here, the default first: `['spawn', 'forkserver']` (no 'fork' in Node). */
  getAllStartMethods(): StartMethod[] {
    return getAllStartMethods();
  }

  /** Python's `set_executable()`: the Node binary children run. */
  setExecutable(path: string | null): void {
    setExecutable(path);
  }

  /** The Node options children start with, e.g. `['--import', 'tsx']` (null: the parent's own). */
  setExecArgv(args: readonly string[] | null): void {
    setExecArgv(args);
  }

  /** Python's `set_forkserver_preload()`: modules warm interpreters import ahead of time. */
  setForkserverPreload(modules: readonly string[]): void {
    setForkserverPreload(modules);
  }

  /** How many idle warm interpreters the forkserver keeps (null: the default). */
  setForkserverPoolSize(size: number | null): void {
    setForkserverPoolSize(size);
  }

  /** Python's `freeze_support()`: nothing to do in Node; kept so ported programs run unchanged. */
  freezeSupport(): void {}

  /** Python's `get_logger()`. */
  getLogger(): Logger {
    return getLogger();
  }

  /** Python's `log_to_stderr()`; children started afterwards log the same way. */
  logToStderr(level?: number | LogLevelName): Logger {
    return logToStderr(level);
  }
}

/** A context bound to one start method. */
export abstract class ConcreteContext extends BaseContext {
  /** The start method's name. */
  abstract readonly name: StartMethod;

  override getStartMethod(_allowNone?: boolean): StartMethod {
    return this.name;
  }
}

/** Start method `spawn`: a fresh Node interpreter for every process. */
export class SpawnContext extends ConcreteContext {
  readonly name = 'spawn' as const;

  override launcher(): Launcher {
    return spawnLauncher;
  }
}

/** Start method `forkserver`: warm interpreters kept ready, so a start costs milliseconds. */
export class ForkServerContext extends ConcreteContext {
  readonly name = 'forkserver' as const;

  override launcher(): Launcher {
    return forkserverLauncher;
  }

  /** Starts the warm interpreters now and resolves when they are ready (the first `start()` otherwise does it). */
  ensureRunning(): Promise<void> {
    return ensureForkserverRunning();
  }

  /** Stops the idle warm interpreters and waits until they have exited (new ones start on the next `start()`). */
  stopForkserver(): Promise<void> {
    return stopForkserver();
  }
}

const concreteContexts = new Map<StartMethod, ConcreteContext>([
  ['spawn', new SpawnContext()],
  ['forkserver', new ForkServerContext()],
]);

/** The module-level context: its start method can be chosen once with `setStartMethod()`. */
export class DefaultContext extends BaseContext {
  readonly #default: ConcreteContext;
  #actual: ConcreteContext | null = null;

  constructor(context: ConcreteContext) {
    super();
    this.#default = context;
  }

  /** Processes of the default context use whatever start method is set when they start. */
  protected override contextForProcesses(): LauncherSource | null {
    return null;
  }

  override launcher(): Launcher {
    return this.getContext().launcher();
  }

  /** Without a method: the context of the start method in use (fixing the default if none was set). */
  override getContext(method: 'forkserver'): ForkServerContext;
  override getContext(method: 'spawn'): SpawnContext;
  override getContext(method?: string | null): BaseContext;
  override getContext(method?: string | null): BaseContext {
    if (method === undefined || method === null) {
      this.#actual ??= this.#default;
      return this.#actual;
    }
    return super.getContext(method);
  }

  /**
   * Sets the start method of the default context: at most once (Python raises
   * 'context has already been set'), unless `force` is given. With
   * `force: true`, `null` unsets it.
   */
  override setStartMethod(method: string | null, options: SetStartMethodOptions = {}): void {
    if (this.#actual !== null && !options.force) {
      throw new ProcessError('context has already been set: setStartMethod() may be called once (pass { force: true } to change it)');
    }
    if (method === null) {
      if (options.force) {
        this.#actual = null;
        return;
      }
      throw new ValueError('setStartMethod() needs a start method name');
    }
    this.#actual = super.getContext(method) as ConcreteContext;
  }

  /** The start method in use; fixes the default unless `allowNone`, which returns null when none was set. */
  override getStartMethod(allowNone = false): StartMethod | null {
    if (this.#actual === null) {
      if (allowNone) return null;
      this.#actual = this.#default;
    }
    return this.#actual.name;
  }

  /** A child uses its parent's start method for its own children. */
  forceStartMethod(method: string): void {
    const context = concreteContexts.get(method as StartMethod);
    if (context) this.#actual = context;
  }
}

/** The default context of this package (the umbrella package reuses it). */
export const defaultContext: DefaultContext = (() => {
  // Shared with any other copy of this package in the process, so there is one choice of start method.
  const rt = runtime();
  if (!rt.defaultContext) {
    const context = new DefaultContext(concreteContexts.get('spawn')!);
    if (rt.inheritedStartMethod) context.forceStartMethod(rt.inheritedStartMethod);
    rt.defaultContext = context;
  }
  return rt.defaultContext as DefaultContext;
})();

/** Python's `get_context()`: the default context, or the context of `method` ('spawn' or 'forkserver'). */
export function getContext(method: 'forkserver'): ForkServerContext;
export function getContext(method: 'spawn'): SpawnContext;
export function getContext(method?: string | null): BaseContext;
export function getContext(method?: string | null): BaseContext {
  return defaultContext.getContext(method);
}

/** Python's `set_start_method()`: call at most once, from the program's entry code. */
export function setStartMethod(method: string | null, options?: SetStartMethodOptions): void {
  defaultContext.setStartMethod(method, options);
}

/** Python's `get_start_method()`. */
export function getStartMethod(allowNone = false): StartMethod | null {
  return defaultContext.getStartMethod(allowNone);
}

/** Python's `get_all_start_methods()`: `['spawn', 'forkserver']`, the default first. */
export function getAllStartMethods(): StartMethod[] {
  return ['spawn', 'forkserver'];
}

/** Python's `freeze_support()`: a no-op in Node. */
export function freezeSupport(): void {}
