/**
 * The entry of every child interpreter (`node [execArgv] bootstrap.js <mode>
 * <stdio flags> [warm options]`); the parent side never imports this file.
 *
 * `spawn`: read the START frame from the control socket (fd 3), become the
 * process it describes, run it, exit with Python's exit-code rules.
 * `forkserver`: first import the preload modules and report READY, then the
 * same as `spawn` once a START arrives — or exit quietly when the parent goes.
 */
import { openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { defaultCodec, resolveReference } from '@mpjs/serialization';
import { getLogger, LogLevel, logToStderr } from '@mpjs/util';
import {
  CONTROL_FD,
  encodeFrame,
  FIRST_HANDLE_FD,
  MessageKind,
  stdioFlags,
  type Frame,
  type RehearsalMessage,
  type StartMessage,
} from './messages.js';
import { ControlChannel } from './control-channel.js';
import { runtime } from './runtime.js';
import { BOOTSTRAP_ERROR, defineState, Process, runningState, type ProcessPayload, type ProcessState } from './process.js';
import { ParentProcess } from './parent-process.js';
import { nothingToShutDown, shutdownForExit } from './exit.js';
import { closeQuietly, dieWithParent, exitImmediately, receiveHandles } from './native.js';
import type { Handle } from './launch.js';
import type { WarmOptions } from './start-methods/forkserver.js';

const FD_CHANNEL = FIRST_HANDLE_FD;

/** Formats what a target threw the way Python prints a traceback: the stack, with causes. */
function describeError(error: unknown): string {
  // The bootstrapping error says everything; the codec's "could not import" around it adds nothing.
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e.message === BOOTSTRAP_ERROR) return inspect(e, { depth: 4 });
  }
  if (error instanceof Error) return inspect(error, { depth: 4 });
  return `Uncaught ${inspect(error)}`;
}

// The flags Node restores at exit, as the parent read them when it started this interpreter.
const stdioFlagsAtStart = process.argv[3] === '-' ? null : (process.argv[3] ?? null);

/** Node options and variables whose output (profiles, coverage, traces) is written by Node's own exit. */
function exitWritesFiles(): boolean {
  const options = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return (
    process.env.NODE_V8_COVERAGE !== undefined ||
    options.some((o) => /^--(cpu-prof|heap-prof|prof|trace-event|trace-events-enabled|trace-exit)/.test(o))
  );
}
const nodeExitWritesFiles = exitWritesFiles();

/** Which of `process.stdout`/`process.stderr` have been opened (opening one can change its fd's flags). */
const openedStdio = new Set<'stdout' | 'stderr'>();
for (const name of ['stdout', 'stderr'] as const) {
  const descriptor = Object.getOwnPropertyDescriptor(process, name);
  const get = descriptor?.get;
  if (!descriptor?.configurable || !get) {
    openedStdio.add(name); // not the lazy getter expected: always flush it
    continue;
  }
  Object.defineProperty(process, name, {
    ...descriptor,
    get(this: NodeJS.Process) {
      openedStdio.add(name);
      return get.call(this) as unknown;
    },
  });
}

/**
 * Ends the process with `code` as `process.exit()` would, but without Node's
 * teardown when it has nothing else to do (~1.5 ms of a forkserver
 * start→join): the 'exit' listeners run, then `_exit` with the code they
 * left. Node's own exit is used when it would write something (profiles,
 * coverage) or restore the flags of stdout/stderr.
 */
function exitNow(code: number): never {
  process.exitCode = code;
  // As process.exit() does: the listeners run once and may change the code.
  (process as unknown as { _exiting: boolean })._exiting = true;
  process.emit('exit', code);
  const final = Number(process.exitCode ?? 0);
  const nothingElseToDo = !nodeExitWritesFiles && stdioFlagsAtStart !== null && stdioFlags() === stdioFlagsAtStart;
  if (nothingElseToDo && Number.isInteger(final) && final >= 0 && final <= 255) exitImmediately(final);
  process.exit(); // with process.exitCode as the listeners left it
}

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    // Writes to files, pipes and terminals are synchronous on Linux: usually nothing is pending.
    if (stream.destroyed || !stream.writable || stream.writableLength === 0) {
      resolve();
      return;
    }
    try {
      stream.write('', () => resolve());
    } catch {
      resolve();
    }
  });
}

/** Lets the codec resolve references into a preloaded module without importing it again at decode time. */
async function warmCodec(url: string, namespace: Record<string, unknown>): Promise<void> {
  const exported = Object.keys(namespace).find((name) => typeof namespace[name] === 'function');
  if (exported !== undefined) await resolveReference({ module: url, name: exported });
}

async function preload(modules: readonly string[]): Promise<void> {
  const logger = getLogger();
  for (const specifier of modules) {
    try {
      const namespace = (await import(specifier)) as Record<string, unknown>;
      if (specifier.startsWith('file:')) await warmCodec(specifier, namespace);
    } catch {
      try {
        // A bare name the bootstrap cannot see may be a dependency of the program.
        const resolved = createRequire(join(process.cwd(), 'noop.js')).resolve(specifier);
        await import(pathToFileURL(resolved).href);
      } catch (error) {
        logger.debug('forkserver preload of %s failed: %s', specifier, (error as Error)?.message ?? error);
      }
    }
  }
}

/** The environment this interpreter was started with (the parent sends what changed since). */
const envAtStart = new Map(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));

/** Whether the environment is still the one the interpreter was started with (preloaded modules may change it). */
function environmentUnchanged(): boolean {
  const keys = Object.keys(process.env);
  return keys.length === envAtStart.size && keys.every((key) => process.env[key] === envAtStart.get(key));
}

/** `process.cwd()`, or null when the directory is gone. */
function currentDirectory(): string | null {
  try {
    return process.cwd();
  } catch {
    return null;
  }
}

function adoptEnvironment(message: StartMessage): void {
  if (message.cwd !== undefined && message.cwd !== currentDirectory()) {
    try {
      process.chdir(message.cwd);
    } catch {
      // The directory is gone; stay where the interpreter started.
    }
  }
  const changes = message.envChanges;
  if (!changes) return;
  if (environmentUnchanged()) {
    for (const key of changes.unset) delete process.env[key];
    for (const [key, value] of changes.set) process.env[key] = value;
    return;
  }
  // A preloaded module changed the environment: make it the parent's again.
  const target = new Map(envAtStart);
  for (const key of changes.unset) target.delete(key);
  for (const [key, value] of changes.set) target.set(key, value);
  for (const key of Object.keys(process.env)) if (!target.has(key)) delete process.env[key];
  for (const [key, value] of target) if (process.env[key] !== value) process.env[key] = value;
}

/** The state of the process a START message describes. */
function processState(message: StartMessage | RehearsalMessage): ProcessState {
  return runningState({
    identity: message.identity,
    config: { authkey: Buffer.from(message.authkey), daemon: message.daemon },
    parentPid: message.parentPid,
    parentName: message.parentName,
    name: message.name,
  });
}

/** The process object a START payload describes: `provisional`, or an instance of the subclass it names. */
function processObject(decoded: ProcessPayload, state: ProcessState, provisional: Process): Process {
  let self = provisional;
  if (decoded.cls) {
    self = Object.create(decoded.cls.prototype) as Process;
    Object.assign(self, decoded.fields ?? {});
    defineState(self, state);
  }
  state.target = decoded.target;
  state.args = decoded.args ?? [];
  state.kwargs = decoded.kwargs ?? null;
  return self;
}

/**
 * Goes through a hand-over without its effects, with the REHEARSAL frame the
 * parent sends a warm interpreter first: the frame read from the control
 * socket, the environment compared, the process object built, a payload with
 * a function reference decoded. V8 compiles a function when it first runs, and
 * compiling this code (ours and Node's) on the first start would cost more
 * than the rest of the hand-over; here it happens while the interpreter is idle.
 */
async function rehearse({ message, payload }: Frame, control: ControlChannel): Promise<void> {
  const start = message as RehearsalMessage;
  // Adopting no change would still undo what a preloaded module changed in the environment.
  if (environmentUnchanged()) adoptEnvironment({ ...start, kind: MessageKind.START, cwd: currentDirectory() ?? undefined });
  const logger = getLogger();
  logger.setLevel(logger.level);
  if (!logger.isEnabledFor(LogLevel.INFO)) logger.info('rehearsal');
  // Nothing runs in between: the channel keeps the idle interpreter alive.
  control.ref(false);
  control.ref(true);
  closeQuietly(openSync('/dev/null', 'r'));
  const state = processState(start);
  const provisional = Object.create(Process.prototype) as Process;
  defineState(provisional, state);
  void new ParentProcess(start.parentName, start.parentPid, new Promise<void>(() => {}));
  const decoded = (await defaultCodec.decodeAsync(payload, { handles: [] })) as ProcessPayload;
  await processObject({ ...decoded, target: null }, state, provisional).run();
  // Only when it would do nothing but (not) log.
  if (nothingToShutDown() && !logger.isEnabledFor(LogLevel.INFO)) await shutdownForExit();
  stdioFlags();
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  const warm: WarmOptions | null = mode === 'forkserver' ? (JSON.parse(process.argv[4] ?? '{}') as WarmOptions) : null;
  // User code should see a plain argv, not the bootstrap's arguments.
  process.argv.splice(2);

  const rt = runtime();
  rt.isChild = true;
  rt.bootstrapping = true;

  let started = false;
  const control = new ControlChannel(CONTROL_FD);
  void control.ended.then(() => {
    // The parent has exited or died: an idle interpreter just leaves; a running
    // process must not outlive its parent.
    if (!started) process.exit(0);
    else process.kill(process.pid, 'SIGKILL');
  });

  if (warm) {
    if (warm.deathSignal) dieWithParent('SIGKILL', process.ppid);
    await preload(warm.preload);
    if (warm.rehearsal) {
      const rehearsal = await control.next(MessageKind.REHEARSAL);
      // Twice: V8 does work on a function's second call too (it allocates the
      // feedback its call sites use), almost as costly as the first. A process
      // already waiting goes first. A failure here is only a missed
      // optimization: a real start meets it again and reports it. (No forced
      // garbage collection after this: it would flush the compiled code again.)
      for (let i = 0; i < 2 && !control.has(MessageKind.START); i++) await rehearse(rehearsal, control).catch(() => {});
    }
  }

  let startedAs: string | null = null;
  process.on('uncaughtExceptionMonitor', () => {
    if (startedAs !== null) process.stderr.write(`Process ${rt.current?.name ?? startedAs}:\n`);
  });

  if (warm) control.write(encodeFrame({ kind: MessageKind.READY, pid: process.pid }));
  const start = await control.next(MessageKind.START);
  const message = start.message as StartMessage;
  const payload = start.payload;
  started = true;
  startedAs = message.name;
  // From here the channel only tells us whether the parent is alive.
  control.ref(false);
  if (message.deathSignal && !warm) dieWithParent('SIGKILL', message.parentPid);
  adoptEnvironment(message);
  if (message.logging.enabled) logToStderr(message.logging.level);
  else getLogger().setLevel(message.logging.level);

  // Become the process: a provisional object first, so code imported while
  // the target's module loads already sees the right currentProcess().
  const state = processState(message);
  const provisional = Object.create(Process.prototype) as Process;
  defineState(provisional, state);
  rt.current = provisional;
  let holds = 0;
  const holdControl = (): (() => void) => {
    if (holds++ === 0) control.ref(true);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--holds === 0) control.ref(false);
    };
  };
  rt.parent = new ParentProcess(message.parentName, message.parentPid, control.ended, holdControl);
  rt.counter = 1;
  rt.children = new Set();
  // Children of this process use its start method (the context module applies it when it loads).
  rt.inheritedStartMethod = message.startMethod;
  const defaultContext = rt.defaultContext as (typeof rt.defaultContext & { forceStartMethod?(m: string): void }) | null;
  defaultContext?.forceStartMethod?.(message.startMethod);

  let exitcode: number;
  try {
    let handles: Handle[];
    if (message.handleTransport === 'scm-rights') {
      const fds = await receiveHandles(FD_CHANNEL, message.handles.length);
      handles = message.handles.map((h, i) => ({ ...h, fd: fds[i]! }));
    } else {
      handles = message.handles.map((h, i) => ({ ...h, fd: FIRST_HANDLE_FD + i }));
    }
    if (warm?.fdChannel) closeQuietly(FD_CHANNEL);

    const decoded = (await defaultCodec.decodeAsync(payload, { handles })) as ProcessPayload;
    const self = processObject(decoded, state, provisional);
    rt.current = self;
    rt.bootstrapping = false;

    getLogger().info('child process calling self.run()');
    try {
      await self.run();
      exitcode = 0;
    } finally {
      await shutdownForExit();
    }
  } catch (error) {
    exitcode = 1;
    process.stderr.write(`Process ${rt.current?.name ?? message.name}:\n${describeError(error)}\n`);
  }
  getLogger().info('process exiting with exitcode %d', exitcode);
  // Only streams something opened can hold output (opening one here could change its flags).
  await Promise.all([...openedStdio].map((name) => flush(process[name])));
  exitNow(exitcode);
}

main().catch((error: unknown) => {
  process.stderr.write(`mpjs child bootstrap failed:\n${describeError(error)}\n`);
  process.exit(1);
});
