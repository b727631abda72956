/**
 * Python's `multiprocessing.Process`: an activity run in a separate OS
 * process. The object is created and controlled in the parent; the child
 * rebuilds it (target and arguments by reference through the codec, or a
 * subclass instance with its own fields) and calls `run()`.
 */
import { inspect } from 'node:util';
import { constants as osConstants } from 'node:os';
import { defaultCodec, functionReference } from '@mpjs/serialization';
import {
  AssertionError,
  getLogger,
  ProcessError,
  setProcessNameProvider,
  stderrLoggingState,
  ValueError,
  waitArguments,
  type AbortOptions,
  type Timeout,
  type TimeoutOptions,
} from '@mpjs/util';
import { kState } from './symbols.js';
import { isMainThread, runtime, type LauncherSource } from './runtime.js';
import type { Popen, StartMethod } from './popen.js';
import { ProcessSentinel } from './sentinel.js';
import type { Handle, LaunchRequest } from './launch.js';
import { MessageKind } from './messages.js';
import { installExitHandling } from './exit.js';

/** A function a process runs: a top-level export of a module the child can import. */
// `never[]` parameters accept any function type without resorting to `any`.
export type Target = (...args: never[]) => unknown;

/** Options of `new Process()`, as Python's keyword arguments. */
export interface ProcessOptions {
  /** The function `run()` calls; it must be exported from its module. Async functions are awaited. */
  target?: Target | null;
  /** Positional arguments of the target. */
  args?: Iterable<unknown>;
  /**
   * Python's keyword arguments. JavaScript has none, so when given the
   * object is passed as one extra last argument: `target(...args, kwargs)`.
   */
  kwargs?: Record<string, unknown> | null;
  /** The process name; `Process-N` (or `Process-N:M` in a child) by default. */
  name?: string | null;
  /** Daemonic flag; inherited from the creating process when omitted. */
  daemon?: boolean | null;
  /**
   * The context (or start method name) that starts this process; the default
   * context when omitted. `ctx.Process({...})` sets it.
   */
  context?: LauncherSource | StartMethod | null;
}

/** Settings inherited by the children a process creates (Python's `_config`). */
export interface ProcessConfig {
  authkey: Buffer;
  daemon?: boolean;
}

/** Internal state of a process object, kept under a `Symbol.for` key. */
export interface ProcessState {
  identity: readonly number[];
  config: ProcessConfig;
  parentPid: number | null;
  parentName: string | null;
  name: string;
  target: Target | null;
  args: unknown[];
  kwargs: Record<string, unknown> | null;
  popen: Popen | null;
  sentinel: ProcessSentinel | null;
  closed: boolean;
  context: LauncherSource | null;
}

// Log lines carry the current process's name; the authkey slot is defined with the runtime.
setProcessNameProvider(() => currentProcessObject().name);
runtime();

/** Marks the base class itself, so a subclass can be told apart from it in any copy of this package. */
const kBaseClass = Symbol.for('mpjs.process.baseClass');

/**
 * The state of a process that is already running (this process, as the main
 * process or as a started child): who it is, with nothing to start or run.
 */
export function runningState(
  who: Pick<ProcessState, 'identity' | 'config' | 'parentPid' | 'parentName' | 'name'>,
): ProcessState {
  return { ...who, target: null, args: [], kwargs: null, popen: null, sentinel: null, closed: false, context: null };
}

/** The state of a process object, or a TypeError for anything else. */
export function getState(process: object): ProcessState {
  const state = (process as { [kState]?: ProcessState })[kState];
  if (!state) throw new TypeError('not a Process object (was its constructor called with super()?)');
  return state;
}

/** Installs internal state on an object (the constructor, and the child rebuilding its process object). */
export function defineState(target: object, state: ProcessState): void {
  Object.defineProperty(target, kState, { value: state, configurable: true, enumerable: false, writable: true });
}

function checkOpen(process: Process): ProcessState {
  const state = getState(process);
  if (state.closed) throw new ValueError('process object is closed');
  return state;
}

/** The state of `currentProcess()`, creating the main process object on first use. */
export function currentState(): ProcessState {
  return getState(currentProcessObject());
}

/** `currentProcess()`: the process object of this OS process (`MainProcess` in the main process). */
export function currentProcessObject(): Process {
  const rt = runtime();
  if (!rt.current) {
    const main = Object.create(Process.prototype) as Process;
    defineState(
      main,
      runningState({ identity: [], config: { authkey: rt.mainAuthkey }, parentPid: null, parentName: null, name: 'MainProcess' }),
    );
    rt.current = main;
  }
  return rt.current;
}

/** Drops children that have ended from the set of active children (Python's `_cleanup`). */
export function reapChildren(): void {
  const rt = runtime();
  for (const child of rt.children) {
    const popen = getState(child).popen;
    if (!popen || popen.returncode !== null) rt.children.delete(child);
  }
}

/** The message Python gives when a child starts a process while importing its target's module. */
export const BOOTSTRAP_ERROR = `An attempt has been made to start a new process before the
current process has finished its bootstrapping phase.

This probably means that a module imported by a child process (the module
that defines the target) starts processes when it is imported, so every
child would start another one. Guard the code that starts processes so it
runs only when the module is the program's entry point:

    import { runMain } from '@mpjs/process';

    runMain(import.meta, async () => {
      const p = new Process({ target: work });
      p.start();
      await p.join();
    });

(the equivalent of Python's "if __name__ == '__main__':"; isMainModule(import.meta)
returns the same test as a boolean). See "Safe importing of main module" in the
programming guidelines.`;

const exitcodeNames = new Map<number, string>(
  Object.entries(osConstants.signals).map(([name, number]) => [-number, `-${name}`]),
);

/** Process objects represent activity that is run in a separate process (Python's `multiprocessing.Process`). */
export class Process {
  static {
    Object.defineProperty(this, kBaseClass, { value: true });
  }

  declare readonly [kState]: ProcessState;

  /**
   * Creates a process object; nothing runs until `start()`. A subclass that
   * overrides the constructor must call `super()` first; its own enumerable
   * fields are sent to the child, where the instance is rebuilt without
   * calling the constructor.
   */
  constructor(options: ProcessOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('new Process() takes an options object: new Process({ target, args, kwargs, name, daemon })');
    }
    // A subclass may pass its own fields in the same object: only the class itself knows every option.
    if (new.target === Process) checkOptionNames(options);
    const { target = null, args = [], kwargs = null, name = null, daemon = null, context = null } = options;
    if (target !== null && typeof target !== 'function') {
      throw new TypeError(`new Process(): target must be a function, got ${describeValue(target)}`);
    }
    if (args === null || typeof (args as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function') {
      throw new TypeError(
        `new Process(): args must be an array (or another iterable) of the target's arguments, got ${describeValue(args)}; ` +
          'for one argument write args: [value]',
      );
    }
    if (kwargs !== null && !isPlainObject(kwargs)) {
      throw new TypeError(
        `new Process(): kwargs must be a plain object (it is passed to the target as one last argument), got ${describeValue(kwargs)}`,
      );
    }
    if (name !== null && typeof name !== 'string') throw new TypeError(`new Process(): name must be a string, got ${describeValue(name)}`);
    if (daemon !== null && typeof daemon !== 'boolean') {
      throw new TypeError(`new Process(): daemon must be true or false, got ${describeValue(daemon)}`);
    }
    const rt = runtime();
    const parent = currentState();
    const identity = [...parent.identity, rt.counter++];
    const config: ProcessConfig = { ...parent.config };
    if (daemon !== null) config.daemon = daemon;
    defineState(this, {
      identity,
      config,
      parentPid: process.pid,
      parentName: parent.name,
      name: name ?? `${new.target.name || 'Process'}-${identity.join(':')}`,
      target,
      args: [...args],
      kwargs,
      popen: null,
      sentinel: null,
      closed: false,
      context: resolveContext(context),
    });
  }

  /**
   * The process's activity, run in the child. By default it calls the target
   * with the arguments (awaiting a returned promise); override it in a
   * subclass.
   */
  run(): unknown {
    const { target, args, kwargs } = getState(this);
    if (!target) return undefined;
    const call = target as (...a: unknown[]) => unknown;
    return kwargs ? call(...args, kwargs) : call(...args);
  }

  /** Starts the process's activity in a new OS process. Call at most once. */
  start(): void {
    const state = checkOpen(this);
    const rt = runtime();
    if (state.popen) throw new AssertionError('cannot start a process twice');
    if (state.parentPid !== process.pid) {
      throw new AssertionError('can only start a process object created by the current process');
    }
    if (currentState().config.daemon) {
      throw new AssertionError('daemonic processes are not allowed to have children');
    }
    if (rt.bootstrapping) throw new ProcessError(BOOTSTRAP_ERROR);
    reapChildren();
    const source = state.context ?? rt.defaultContext;
    if (!source) throw new ProcessError('no start method is available: the context module of @mpjs/process was not loaded');
    const launcher = source.launcher();
    const request = buildLaunchRequest(this, state);
    state.popen = launcher.launch(request);
    const popen = state.popen;
    state.sentinel = new ProcessSentinel(popen.exited, () => popen.hold());
    // Like Python, drop the references the parent no longer needs.
    state.target = null;
    state.args = [];
    state.kwargs = null;
    rt.children.add(this);
    installExitHandling();
    getLogger().debug('started %s (pid %d) with start method %s', state.name, state.popen.pid, launcher.method);
  }

  /** Sends SIGTERM to the process (exit handlers and `finally` blocks do not run in it). */
  terminate(): void {
    this.#popenForSignal('terminate').signal('SIGTERM');
  }

  /** Sends SIGKILL to the process. */
  kill(): void {
    this.#popenForSignal('kill').signal('SIGKILL');
  }

  #popenForSignal(what: string): Popen {
    const state = checkOpen(this);
    if (!state.popen) throw new AssertionError(`can only ${what} a started process`);
    return state.popen;
  }

  /**
   * Waits until the process ends, or at most `timeout` milliseconds. Resolves
   * either way: check `exitcode` to know whether it ended. A process can be
   * joined many times. The timeout may also be given in the options:
   * `join({ timeout, signal })`. Aborting `signal` rejects with
   * `signal.reason` (the process runs on).
   */
  async join(timeout?: Timeout | TimeoutOptions, options?: AbortOptions): Promise<void> {
    const state = checkOpen(this);
    const rt = runtime();
    const { ms, signal } = waitArguments('join', timeout, options);
    if (this === rt.current) throw new AssertionError('a process cannot join itself: it would wait forever');
    if (state.parentPid !== process.pid) throw new AssertionError('can only join a child process');
    if (!state.popen) throw new AssertionError('can only join a started process: call start() first');
    if (signal?.aborted) throw signal.reason;
    const code = await state.popen.wait(ms, signal);
    if (code !== null) rt.children.delete(this);
  }

  /** Whether the process is running (from `start()` until it ends). */
  isAlive(): boolean {
    const state = checkOpen(this);
    const rt = runtime();
    if (this === rt.current) return true;
    if (state.parentPid !== process.pid) throw new AssertionError('can only test a child process');
    if (!state.popen) return false;
    if (state.popen.returncode === null) return true;
    rt.children.delete(this);
    return false;
  }

  /**
   * Releases what the object holds. Throws ValueError while the process runs;
   * afterwards most members throw ValueError.
   */
  close(): void {
    const state = getState(this);
    if (state.popen) {
      if (state.popen.returncode === null) {
        throw new ValueError('Cannot close a process while it is still running. You should first call join() or terminate().');
      }
      state.popen.close();
      state.popen = null;
      state.sentinel = null;
      runtime().children.delete(this);
    }
    state.closed = true;
  }

  /** The process's name (identification only). */
  get name(): string {
    return getState(this).name;
  }

  set name(name: string) {
    if (typeof name !== 'string') throw new AssertionError('name must be a string');
    getState(this).name = name;
  }

  /** The daemonic flag; set it before `start()`. Daemonic processes are terminated when their parent exits and may not have children. */
  get daemon(): boolean {
    return getState(this).config.daemon ?? false;
  }

  set daemon(daemonic: boolean) {
    const state = getState(this);
    if (state.popen) throw new AssertionError('process has already started');
    if (typeof daemonic !== 'boolean') throw new TypeError(`daemon must be true or false, got ${describeValue(daemonic)}`);
    state.config.daemon = daemonic;
  }

  /** The authentication key (32 random bytes in the main process, inherited by children). */
  get authkey(): Buffer {
    return getState(this).config.authkey;
  }

  set authkey(authkey: Buffer | Uint8Array) {
    if (!(authkey instanceof Uint8Array)) throw new TypeError('authkey must be a Buffer (or Uint8Array)');
    getState(this).config.authkey = Buffer.from(authkey);
  }

  /** The exit code: null while running, a negative number -N when ended by signal N. */
  get exitcode(): number | null {
    const state = checkOpen(this);
    return state.popen ? state.popen.returncode : null;
  }

  /** The process id, null before `start()`. */
  get pid(): number | null {
    const state = checkOpen(this);
    if (this === runtime().current) return process.pid;
    return state.popen ? state.popen.pid : null;
  }

  /** Alias of `pid` (Python's `ident`). */
  get ident(): number | null {
    return this.pid;
  }

  /** An object that becomes ready when the process ends; pass it to `wait()`. Throws ValueError before `start()`. */
  get sentinel(): ProcessSentinel {
    const state = checkOpen(this);
    if (!state.sentinel) throw new ValueError('process not started');
    return state.sentinel;
  }

  /** `<Process name='Process-1' pid=123 parent=100 started>` as in Python. */
  toString(): string {
    const state = getState(this);
    const rt = runtime();
    let status: string;
    let exitcode: number | null = null;
    if (this === rt.current) status = 'started';
    else if (state.closed) status = 'closed';
    else if (state.parentPid !== process.pid) status = 'unknown';
    else if (!state.popen) status = 'initial';
    else {
      exitcode = state.popen.returncode;
      status = exitcode !== null ? 'stopped' : 'started';
    }
    const info = [this.constructor.name || 'Process', `name='${state.name}'`];
    if (state.popen) info.push(`pid=${state.popen.pid}`);
    info.push(`parent=${state.parentPid ?? 'None'}`, status);
    if (exitcode !== null) info.push(`exitcode=${exitcodeNames.get(exitcode) ?? exitcode}`);
    if (state.config.daemon) info.push('daemon');
    return `<${info.join(' ')}>`;
  }

  /** `console.log(p)` prints the same as `toString()`. */
  [inspect.custom](): string {
    return this.toString();
  }
}

/** The options `new Process()` knows (Python's keyword arguments, and the context). */
const optionNames = ['target', 'args', 'kwargs', 'name', 'daemon', 'context'] as const satisfies readonly (keyof ProcessOptions)[];

/** A value as error messages show it. */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
    return name && name !== 'Object' ? `an instance of ${name}` : 'an object';
  }
  return `${typeof value} ${String(value)}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** Edit distance, to suggest the option a misspelled one meant. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Refuses an option `new Process()` does not know (Python's "unexpected keyword argument"), which would be ignored. */
function checkOptionNames(options: object): void {
  for (const key of Object.keys(options)) {
    if ((optionNames as readonly string[]).includes(key)) continue;
    const near = optionNames.find((name) => distance(key.toLowerCase(), name) <= 2);
    throw new TypeError(
      `new Process(): unknown option ${JSON.stringify(key)}${near ? ` (did you mean "${near}"?)` : ''}; ` +
        `the options are ${optionNames.join(', ')}`,
    );
  }
}

function resolveContext(context: LauncherSource | StartMethod | null): LauncherSource | null {
  if (context === null) return null;
  if (typeof context === 'string') {
    const source = runtime().defaultContext;
    if (!source) throw new ProcessError('no contexts are available: the context module of @mpjs/process was not loaded');
    return source.getContext(context);
  }
  if (typeof context.launcher !== 'function') throw new TypeError('context must be a context object or a start method name');
  return context;
}

/** Whether `constructor` is a subclass of Process rather than the class itself. */
function isSubclass(constructor: unknown): constructor is new () => Process {
  return typeof constructor === 'function' && !Object.prototype.hasOwnProperty.call(constructor, kBaseClass);
}

/** Encodes what the child needs to rebuild `process` and run it. */
function buildLaunchRequest(process_: Process, state: ProcessState): LaunchRequest {
  const constructor = Object.getPrototypeOf(process_)?.constructor as unknown;
  const subclass = isSubclass(constructor);
  const payload: ProcessPayload = { target: state.target, args: state.args, kwargs: state.kwargs };
  if (subclass) {
    payload.cls = constructor;
    payload.fields = Object.fromEntries(Object.keys(process_).map((key) => [key, (process_ as unknown as Record<string, unknown>)[key]]));
  }
  const handles: Handle[] = [];
  let bytes: Uint8Array;
  try {
    bytes = defaultCodec.encode(payload, { handles, spawning: true });
  } catch (error) {
    // Keep the codec's error class (SerializationError) and say which process it was about.
    if (error instanceof Error) {
      const old = error.message;
      error.message = `cannot start ${state.name}: ${old}`;
      if (error.stack?.includes(old)) error.stack = error.stack.replace(old, error.message);
    }
    throw error;
  }
  const current = currentState();
  return {
    message: {
      kind: MessageKind.START,
      name: state.name,
      identity: [...state.identity],
      authkey: state.config.authkey,
      daemon: state.config.daemon ?? false,
      parentPid: process.pid,
      parentName: current.name,
      logging: stderrLoggingState(),
      handles: handles.map(({ kind, meta }) => (meta === undefined ? { kind } : { kind, meta })),
      deathSignal: isMainThread(),
    },
    payload: bytes,
    handles,
    daemon: state.config.daemon ?? false,
    modules: [state.target, subclass ? constructor : null].flatMap((fn) => {
      if (typeof fn !== 'function') return [];
      try {
        // Encoding has already located it: this reads the codec's cache.
        return [functionReference(fn).module];
      } catch {
        return [];
      }
    }),
  };
}

/** What travels to the child beside the START message. */
export interface ProcessPayload {
  target: Target | null;
  args: unknown[];
  kwargs: Record<string, unknown> | null;
  /** A subclass, by reference. */
  cls?: new () => Process;
  /** The subclass instance's own enumerable fields. */
  fields?: Record<string, unknown>;
}
