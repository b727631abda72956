/**
 * Start method `forkserver`. Node cannot fork, so the promise of Python's fork
 * server (fast, clean starts) is kept another way: the parent keeps a few warm
 * interpreters — Node already started on the bootstrap, with the modules of
 * `setForkserverPreload()` imported — and hands a new process object to one
 * of them, refilling the pool in the background. The warm interpreter adopts
 * the parent's current directory and environment, receives the handles of the
 * arguments over a Unix socket (SCM_RIGHTS), and becomes the process: its pid
 * is the process's pid, its exit status the exit code.
 *
 * Idle warm interpreters never keep the parent alive, and exit when it exits
 * or dies (end of file on their control socket, and a parent-death signal).
 */
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { defaultCodec, ExtType } from '@mpjs/serialization';
import { ValueError } from '@mpjs/util';
import { getExecArgv, getExecutable } from '../exec-options.js';
import {
  encodeFrame,
  FrameReader,
  MessageKind,
  type EnvironmentChanges,
  type RehearsalMessage,
  type StartMessage,
} from '../messages.js';
import { Popen } from '../popen.js';
import { bootstrapPath, startInterpreter, type LaunchRequest, type Launcher } from '../launch.js';
import { addExitParticipant, type ExitParticipant } from '../exit.js';
import { isMainThread } from '../runtime.js';
import { closeQuietly, fdChannel, sendHandles } from '../native.js';

/** Arguments of a warm interpreter, passed as JSON after the mode. */
export interface WarmOptions {
  /** Module specifiers (file URLs or bare names) to import while idle. */
  preload: string[];
  /** Whether fd 4 is a channel for receiving handles. */
  fdChannel: boolean;
  /** Whether the interpreter may ask for a parent-death signal (its parent is a main thread). */
  deathSignal: boolean;
  /** Whether a REHEARSAL frame comes first on the control socket. */
  rehearsal: boolean;
}

interface ForkserverSettings {
  preload: string[];
  poolSize: number | null;
  pools: Map<string, WarmPool>;
  /**
   * Modules recently needed by what ran through the forkserver (targets,
   * Process subclasses, and what other packages report with
   * `forkserverLearn`), most recent first: interpreters started from now on
   * import them ahead of time too, as Python's fork server has `__main__`
   * loaded.
   */
  learned: string[];
}

const kSettings = Symbol.for('mpjs.process.forkserver');
type Global = typeof globalThis & { [kSettings]?: ForkserverSettings };

function settings(): ForkserverSettings {
  const current = ((globalThis as Global)[kSettings] ??= { preload: [], poolSize: null, pools: new Map(), learned: [] });
  current.learned ??= []; // settings made by an older copy of this package in the same process
  return current;
}

/** Turns what users pass to `setForkserverPreload()` into specifiers a child can import. */
function toSpecifier(module: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(module) && !isAbsolute(module)) return module; // file:, node:, data:
  if (isAbsolute(module) || module.startsWith('./') || module.startsWith('../')) {
    return pathToFileURL(resolvePath(module)).href;
  }
  return module;
}

/**
 * Python's `set_forkserver_preload()`: modules the warm interpreters import
 * ahead of time (paths relative to the current directory, file URLs or
 * package names). A hint: modules that fail to load are skipped. Warm
 * interpreters started with another list are retired.
 */
export function setForkserverPreload(modules: readonly string[]): void {
  if (!Array.isArray(modules) || modules.some((m) => typeof m !== 'string')) {
    throw new ValueError('setForkserverPreload() needs an array of module specifiers (strings)');
  }
  settings().preload = modules.map(toSpecifier);
}

/** The preload list as warm interpreters receive it. */
export function getForkserverPreload(): string[] {
  return [...settings().preload];
}

/**
 * How many idle warm interpreters the forkserver keeps (default: the number
 * of CPUs, at most 4). `null` restores the default.
 */
export function setForkserverPoolSize(size: number | null): void {
  if (size !== null && (!Number.isInteger(size) || size < 1)) {
    throw new ValueError(`the forkserver pool size must be an integer of at least 1, got ${String(size)}`);
  }
  settings().poolSize = size;
}

function poolSize(): number {
  return settings().poolSize ?? Math.max(1, Math.min(4, availableParallelism()));
}

/** How long a handed-over process may run alone before a replacement interpreter is started. */
const REFILL_DELAY_MS = 25;

/** One idle interpreter waiting for a process object. */
interface Warm {
  child: ChildProcess;
  control: Socket;
  ready: boolean;
  /** Parent end of the fd channel (the child has the other end as fd 4), or null. */
  fdChannel: number | null;
  exited: boolean;
  onData: (chunk: Buffer) => void;
  /** The environment the interpreter was started with: a start sends only what changed since. */
  env: Map<string, string>;
}

/** How many modules warm interpreters learn to preload. */
const MAX_LEARNED = 8;

/** Warm interpreters of one configuration (executable, Node options, preload list). */
class WarmPool implements ExitParticipant {
  readonly key: string;
  readonly #execArgs: { preload: string[] };
  readonly #idle: Warm[] = [];
  #fillScheduled = false;
  #stopped = false;
  #readyWaiters: Array<() => void> = [];

  constructor(key: string, preload: string[]) {
    this.key = key;
    this.#execArgs = { preload };
    addExitParticipant(this);
  }

  /** A warm interpreter: a ready one if possible, one still booting otherwise, a new one if none is left. */
  take(): Warm {
    this.#stopped = false;
    const index = this.#idle.findIndex((w) => w.ready);
    const warm = index >= 0 ? this.#idle.splice(index, 1)[0]! : (this.#idle.shift() ?? this.#spawn());
    warm.control.off('data', warm.onData);
    // Refill once the handed-over process has ended or had a moment to run: a
    // Node start-up competing for the CPU would slow down a short process.
    const refill = setTimeout(() => this.#scheduleFill(), REFILL_DELAY_MS);
    warm.child.once('exit', () => {
      clearTimeout(refill);
      this.#scheduleFill();
    });
    return warm;
  }

  /** Starts interpreters until the pool is full. */
  fill(): void {
    this.#stopped = false;
    while (this.#idle.length < poolSize()) this.#idle.push(this.#spawn());
  }

  /** Resolves when the pool is full and every interpreter in it is ready. */
  async whenReady(): Promise<void> {
    this.fill();
    // Idle interpreters do not keep the event loop alive; this wait must, or
    // the loop would run dry and the exit handling would retire the pool.
    const keepAlive = setInterval(() => {}, 1 << 30);
    try {
      while (this.#idle.some((w) => !w.ready) || this.#idle.length < poolSize()) {
        await new Promise<void>((resolve) => this.#readyWaiters.push(resolve));
        if (this.#stopped) return;
        this.fill();
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  #notify(): void {
    const waiters = this.#readyWaiters;
    this.#readyWaiters = [];
    for (const wake of waiters) wake();
  }

  #scheduleFill(): void {
    if (this.#fillScheduled) return;
    this.#fillScheduled = true;
    // After the current handoff, so that starting the replacement does not delay it.
    setImmediate(() => {
      this.#fillScheduled = false;
      if (!this.#stopped) this.fill();
    });
  }

  #spawn(): Warm {
    const channel = fdChannel();
    const options: WarmOptions = {
      preload: [...this.#execArgs.preload, ...settings().learned.filter((m) => !this.#execArgs.preload.includes(m))],
      fdChannel: channel !== null,
      deathSignal: isMainThread(),
      rehearsal: true,
    };
    let interpreter;
    const env = environment();
    try {
      interpreter = startInterpreter('forkserver', [JSON.stringify(options)], channel ? [channel[1]] : []);
    } finally {
      if (channel) closeQuietly(channel[1]);
    }
    const { child, control } = interpreter;
    control.write(rehearsalFrame());
    const reader = new FrameReader();
    const warm: Warm = {
      child,
      control,
      ready: false,
      fdChannel: channel ? channel[0] : null,
      exited: false,
      env,
      onData: (chunk: Buffer) => {
        for (const frame of reader.push(chunk)) {
          if (frame.message.kind === MessageKind.READY) {
            warm.ready = true;
            this.#notify();
          }
        }
      },
    };
    control.on('data', warm.onData);
    // Idle interpreters never keep the parent alive.
    child.unref();
    control.unref();
    child.once('exit', () => {
      warm.exited = true;
      if (warm.fdChannel !== null) closeQuietly(warm.fdChannel);
      warm.fdChannel = null;
      const at = this.#idle.indexOf(warm);
      if (at >= 0) this.#idle.splice(at, 1);
      control.destroy();
      this.#notify();
    });
    return warm;
  }

  #retire(signal: NodeJS.Signals | null, keepLoopAlive: boolean): Promise<void>[] {
    this.#stopped = true;
    const idle = this.#idle.splice(0);
    this.#notify();
    return idle.map((warm) => {
      if (warm.exited) return Promise.resolve();
      const exited = new Promise<void>((resolve) => warm.child.once('exit', () => resolve()));
      if (keepLoopAlive) warm.child.ref();
      // Closing the control socket makes an idle interpreter exit on its own.
      warm.control.destroy();
      if (signal) warm.child.kill(signal);
      return exited;
    });
  }

  /** Retires idle interpreters and keeps the event loop alive until they are gone (no zombies). */
  beforeExit(): void {
    void Promise.all(this.#retire(null, true));
  }

  /** Kills idle interpreters at once. */
  exit(): void {
    void this.#retire('SIGKILL', false);
  }

  /** Retires idle interpreters and waits until they have exited. */
  async shutdown(): Promise<void> {
    await Promise.all(this.#retire(null, true));
  }
}

function currentPool(): WarmPool {
  const preload = getForkserverPreload();
  // The bootstrap too: another copy of this package in the process speaks to its own interpreters.
  const key = JSON.stringify([getExecutable(), getExecArgv(), preload, bootstrapPath()]);
  const pools = settings().pools;
  let pool = pools.get(key);
  if (!pool) {
    // Interpreters of an older configuration are of no use any more.
    for (const [oldKey, old] of pools) {
      void old.shutdown();
      pools.delete(oldKey);
    }
    pool = new WarmPool(key, preload);
    pools.set(key, pool);
  }
  return pool;
}

/**
 * Tells the forkserver that processes will need these modules (file URLs or
 * package names): warm interpreters started from now on import them ahead of
 * time, as they do for the modules of targets started through them (the 8
 * most recent are kept). A pool reports its task functions' modules this
 * way, so its next workers start with them loaded. A module that fails to
 * import in advance is imported again when it is needed.
 */
export function forkserverLearn(modules: Iterable<string>): void {
  const learned = settings().learned;
  for (const module of modules) {
    const at = learned.indexOf(module);
    if (at === 0) continue;
    if (at > 0) learned.splice(at, 1);
    learned.unshift(module);
  }
  if (learned.length > MAX_LEARNED) learned.length = MAX_LEARNED;
}

/** Starts the warm interpreters now and resolves once they are ready (otherwise the first `start()` does it). */
export async function ensureForkserverRunning(): Promise<void> {
  await currentPool().whenReady();
}

/** Stops every idle warm interpreter and waits until they have exited. */
export async function stopForkserver(): Promise<void> {
  const pools = settings().pools;
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((pool) => pool.shutdown()));
}

let rehearsal: Buffer | null = null;

/**
 * The frame a warm interpreter rehearses a hand-over with: a START whose
 * payload is `{ target, args, kwargs }` with the target a function of a
 * built-in module (`os.tmpdir`, never called). The reference is written from
 * parts, as the codec writes one (an extension holding the module and the
 * export name), so that no lookup of the function is needed here.
 */
function rehearsalFrame(): Buffer {
  if (rehearsal) return rehearsal;
  const reference = Buffer.concat([defaultCodec.encode('node:os'), defaultCodec.encode('tmpdir')]);
  const payload = Buffer.concat([
    Buffer.from([0x83]), // a map of three entries
    defaultCodec.encode('target'),
    Buffer.from([0xc7, reference.length, ExtType.Function]), // ext 8
    reference,
    defaultCodec.encode('args'),
    defaultCodec.encode([1, 'two', { three: [3.5, true, null] }]),
    defaultCodec.encode('kwargs'),
    defaultCodec.encode({ k: 'v' }),
  ]);
  const message: RehearsalMessage = {
    kind: MessageKind.REHEARSAL,
    name: 'Rehearsal',
    identity: [0],
    authkey: new Uint8Array(32),
    daemon: false,
    parentPid: process.pid,
    parentName: 'MainProcess',
    startMethod: 'forkserver',
    logging: { enabled: false, level: 0 },
    handles: [],
    handleTransport: 'stdio',
    deathSignal: false,
    envChanges: { set: [], unset: [] },
  };
  return (rehearsal = encodeFrame(message, payload));
}

/** The environment a child started now would get. */
function environment(): Map<string, string> {
  const env = new Map<string, string>();
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env.set(key, value);
  return env;
}

/** What changed in the environment from `then` to `now`. */
function environmentChanges(then: Map<string, string>, now: Map<string, string>): EnvironmentChanges {
  const changes: EnvironmentChanges = { set: [], unset: [] };
  for (const [key, value] of now) if (then.get(key) !== value) changes.set.push([key, value]);
  for (const key of then.keys()) if (!now.has(key)) changes.unset.push(key);
  return changes;
}

/** The `forkserver` launcher. */
export const forkserverLauncher: Launcher = {
  method: 'forkserver',
  launch(request: LaunchRequest): Popen {
    const pool = currentPool();
    forkserverLearn(request.modules);
    let warm = pool.take();
    if (request.handles.length > 0 && warm.fdChannel === null) {
      // Without fd passing the handles can only travel in a new interpreter's stdio table.
      warm.control.destroy();
      warm = takeFresh(request);
      return handOver(warm, request, 'stdio');
    }
    return handOver(warm, request, request.handles.length > 0 ? 'scm-rights' : 'stdio');
  },
};

function takeFresh(request: LaunchRequest): Warm {
  const options: WarmOptions = { preload: getForkserverPreload(), fdChannel: false, deathSignal: isMainThread(), rehearsal: false };
  const env = environment();
  const { child, control } = startInterpreter(
    'forkserver',
    [JSON.stringify(options)],
    request.handles.map((h) => h.fd),
  );
  return { child, control, ready: false, fdChannel: null, exited: false, onData: () => {}, env };
}

function handOver(warm: Warm, request: LaunchRequest, transport: StartMessage['handleTransport']): Popen {
  if (transport === 'scm-rights' && warm.fdChannel !== null) {
    sendHandles(warm.fdChannel, request.handles.map((h) => h.fd));
  }
  if (warm.fdChannel !== null) {
    closeQuietly(warm.fdChannel);
    warm.fdChannel = null;
  }
  const message: StartMessage = {
    ...request.message,
    kind: MessageKind.START,
    startMethod: 'forkserver',
    handleTransport: transport,
    cwd: process.cwd(),
    envChanges: environmentChanges(warm.env, environment()),
  };
  warm.control.write(encodeFrame(message, request.payload));
  const popen = new Popen('forkserver', warm.child, warm.control);
  // No child keeps the loop alive by itself: the exit handling joins the non-daemonic ones (exit.ts).
  popen.unref();
  return popen;
}
