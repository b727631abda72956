/**
 * What the start methods share: the request `Process.start()` hands to a
 * launcher, and the one place that starts a Node interpreter on the child
 * bootstrap.
 */
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ProcessError, lazyBuiltin } from '@mpjs/util';
import { getExecArgv, getExecutable } from './exec-options.js';
import { CONTROL_FD, stdioFlags, type StartMessage } from './messages.js';
import type { Popen, StartMethod } from './popen.js';

/** Loaded when this process first starts one, not with the package (a child that starts none never needs it). */
const childProcess = lazyBuiltin<typeof import('node:child_process')>('node:child_process');

/** An OS handle collected while encoding the process object (the codec's `HandleRecord`). */
export interface Handle {
  fd: number;
  kind: string;
  meta?: unknown;
}

/** Everything a launcher needs to start one process. */
export interface LaunchRequest {
  /** The START message, less what the launcher fills in. */
  message: Omit<StartMessage, 'startMethod' | 'handleTransport' | 'cwd' | 'env'>;
  /** The process object (target, arguments, subclass fields) encoded by the codec. */
  payload: Uint8Array;
  /** OS handles the payload refers to by index. */
  handles: Handle[];
  /** Whether the child is daemonic (terminated, not waited for, when the parent ends). */
  daemon: boolean;
  /** Modules the child will import to find its target (the target's and a Process subclass's). */
  modules: string[];
}

/** A start method: turns a launch request into a running child. */
export interface Launcher {
  readonly method: StartMethod;
  launch(request: LaunchRequest): Popen;
}

let bootstrap: string | undefined;

/** The child entry script, `.ts` when this package runs from its sources under a TypeScript loader. */
export function bootstrapPath(): string {
  const here = import.meta.url;
  const name = here.endsWith('.ts') ? './bootstrap.ts' : './bootstrap.js';
  return (bootstrap ??= fileURLToPath(new URL(name, here)));
}

/** A freshly started interpreter on the bootstrap script. */
export interface Interpreter {
  child: ChildProcess;
  control: Socket;
}

/**
 * Starts `node [execArgv] bootstrap mode stdioFlags ...args` with stdin on
 * /dev/null, stdout and stderr shared with the parent (and their current
 * flags, see `stdioFlags()`), the control socket on fd 3 and `fds` from fd 4
 * on. Throws at once if the executable cannot be started.
 */
export function startInterpreter(mode: StartMethod, args: readonly string[], fds: readonly number[]): Interpreter {
  const executable = getExecutable();
  const child = childProcess().spawn(executable, [...getExecArgv(), bootstrapPath(), mode, stdioFlags() ?? '-', ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'pipe', ...fds],
    // The environment as the program sees it now (explicit: a sandboxed `process.env` may differ from Node's own).
    env: process.env,
    windowsHide: true,
  });
  // Errors after a successful start (a failed kill) must not crash the parent.
  child.on('error', () => {});
  if (child.pid === undefined) {
    throw new ProcessError(
      `could not start a child process: "${executable}" failed to launch; ` +
        'check the path given to setExecutable() (it must be a Node.js binary)',
    );
  }
  const control = child.stdio[CONTROL_FD] as Socket;
  // The child may die before reading; a broken pipe is reported by its exit code instead.
  control.on('error', () => {});
  return { child, control };
}
