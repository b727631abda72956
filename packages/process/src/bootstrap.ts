/**
 * The entry of every child interpreter (`node [execArgv] bootstrap.js <mode>`);
 * the parent side never imports this file.
 *
 * `spawn`: read the START frame from the control socket (fd 3), become the
 * process it describes, run it, exit with Python's exit-code rules.
 * `forkserver`: first import the preload modules and report READY, then the
 * same as `spawn` once a START arrives — or exit quietly when the parent goes.
 */
import { Socket } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { defaultCodec, resolveReference } from '@mpjs/serialization';
import { getLogger, logToStderr } from '@mpjs/util';
import { CONTROL_FD, encodeFrame, FIRST_HANDLE_FD, FrameReader, MessageKind, type StartMessage } from './messages.js';
import { runtime } from './runtime.js';
import { BOOTSTRAP_ERROR, defineState, Process, type ProcessPayload, type ProcessState } from './process.js';
import { ParentProcess } from './parent-process.js';
import { shutdownForExit } from './exit.js';
import { closeQuietly, dieWithParent, receiveHandles } from './native.js';
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

function adoptEnvironment(message: StartMessage): void {
  if (message.cwd !== undefined) {
    try {
      process.chdir(message.cwd);
    } catch {
      // The directory is gone; stay where the interpreter started.
    }
  }
  if (message.env) {
    for (const key of Object.keys(process.env)) if (!(key in message.env)) delete process.env[key];
    for (const [key, value] of Object.entries(message.env)) if (process.env[key] !== value) process.env[key] = value;
  }
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  const warm: WarmOptions | null = mode === 'forkserver' ? (JSON.parse(process.argv[3] ?? '{}') as WarmOptions) : null;
  // User code should see a plain argv, not the bootstrap's arguments.
  process.argv.splice(2);

  const rt = runtime();
  rt.isChild = true;
  rt.bootstrapping = true;

  const control = new Socket({ fd: CONTROL_FD, readable: true, writable: true });
  control.on('error', () => {});
  let started = false;
  const parentGone = new Promise<void>((resolve) => control.once('close', () => resolve()));
  control.once('end', () => {
    // The parent has exited or died: an idle interpreter just leaves; a running
    // process must not outlive its parent.
    if (!started) process.exit(0);
    else process.kill(process.pid, 'SIGKILL');
  });

  if (warm) {
    if (warm.deathSignal) dieWithParent('SIGKILL', process.ppid);
    await preload(warm.preload);
    // Run the decoder once so its code is compiled before a process arrives.
    // (No forced garbage collection here: it would flush that compiled code again.)
    defaultCodec.decode(defaultCodec.encode({ target: null, args: [1, 'two', { three: [3.5, true, null] }], kwargs: { k: 'v' } }));
  }

  const reader = new FrameReader();
  const startFrame = new Promise<{ message: StartMessage; payload: Buffer }>((resolve) => {
    const onData = (chunk: Buffer): void => {
      for (const frame of reader.push(chunk)) {
        if (frame.message.kind === MessageKind.START) {
          control.off('data', onData);
          resolve({ message: frame.message, payload: frame.payload });
        }
      }
    };
    control.on('data', onData);
  });
  if (warm) control.write(encodeFrame({ kind: MessageKind.READY, pid: process.pid }));

  const { message, payload } = await startFrame;
  started = true;
  // From here the channel only tells us whether the parent is alive.
  control.unref();
  if (message.deathSignal && !warm) dieWithParent('SIGKILL', message.parentPid);
  adoptEnvironment(message);
  if (message.logging.enabled) logToStderr(message.logging.level);
  else getLogger().setLevel(message.logging.level);

  // Become the process: a provisional object first, so code imported while
  // the target's module loads already sees the right currentProcess().
  const state: ProcessState = {
    identity: message.identity,
    config: { authkey: Buffer.from(message.authkey), daemon: message.daemon },
    parentPid: message.parentPid,
    parentName: message.parentName,
    name: message.name,
    target: null,
    args: [],
    kwargs: null,
    popen: null,
    sentinel: null,
    closed: false,
    context: null,
  };
  const provisional = Object.create(Process.prototype) as Process;
  defineState(provisional, state);
  rt.current = provisional;
  let holds = 0;
  const holdControl = (): (() => void) => {
    if (holds++ === 0) control.ref();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--holds === 0) control.unref();
    };
  };
  rt.parent = new ParentProcess(message.parentName, message.parentPid, parentGone, holdControl);
  rt.counter = 1;
  rt.children = new Set();
  // Children of this process use its start method (the context module applies it when it loads).
  rt.inheritedStartMethod = message.startMethod;
  const defaultContext = rt.defaultContext as (typeof rt.defaultContext & { forceStartMethod?(m: string): void }) | null;
  defaultContext?.forceStartMethod?.(message.startMethod);

  process.on('uncaughtExceptionMonitor', () => {
    process.stderr.write(`Process ${rt.current?.name ?? message.name}:\n`);
  });

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
    let self: Process = provisional;
    if (decoded.cls) {
      self = Object.create(decoded.cls.prototype) as Process;
      Object.assign(self, decoded.fields ?? {});
      defineState(self, state);
      rt.current = self;
    }
    state.target = decoded.target;
    state.args = decoded.args ?? [];
    state.kwargs = decoded.kwargs ?? null;
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
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(exitcode);
}

main().catch((error: unknown) => {
  process.stderr.write(`mpjs child bootstrap failed:\n${describeError(error)}\n`);
  process.exit(1);
});
