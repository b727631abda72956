/**
 * What happens when a process that has children comes to its end (Python's
 * `util._exit_function`): hooks registered with `registerBeforeExit()` are
 * awaited, daemonic children are terminated, then every child is joined.
 *
 * No child keeps the event loop alive by itself, so `beforeExit` comes when
 * the program's own work is done, as the end of Python's main module does:
 * it terminates the daemonic children first (none keeps running while the
 * others are waited for), then waits for all of them, the loop kept alive
 * by the joins. A program that ends with `process.exit()` or an uncaught
 * error cannot await: the `'exit'` listener terminates the daemonic children
 * and waits for every child synchronously (`waitpid`), as Python's atexit
 * join does. The process is alive meanwhile, its control sockets open, so
 * the children do not take it for dead. Only a signal that kills the program
 * skips this; its children then notice (end of file on the control socket,
 * the parent-death signal) and end.
 */
import { getLogger } from '@mpjs/util';
import { runtime } from './runtime.js';
import { getState, type Process } from './process.js';
import type { Popen } from './popen.js';

/** Something besides children that must be wound down at exit (the forkserver's warm interpreters). */
export interface ExitParticipant {
  /** Called when the event loop runs dry: stop, and keep the loop alive until stopped. */
  beforeExit(): void;
  /** Called from `process.on('exit')`: stop at once, synchronously. */
  exit(): void;
  /** Stop and wait (a child's bootstrap does this after `run()`). */
  shutdown(): Promise<void>;
}

const kParticipants = Symbol.for('mpjs.process.exitParticipants');
type Global = typeof globalThis & { [kParticipants]?: Set<ExitParticipant> };

function participants(): Set<ExitParticipant> {
  return ((globalThis as Global)[kParticipants] ??= new Set());
}

/** Registers an exit participant (idempotent). */
export function addExitParticipant(participant: ExitParticipant): void {
  participants().add(participant);
  installExitHandling();
}

/**
 * Registers a function awaited before this process exits: in a child after
 * its target has finished (whether it returned or threw), in the main program
 * when the event loop first runs dry. Queues use it to flush what they still
 * buffer. Returns a function that unregisters the hook. Hooks do not run when
 * the process ends through `process.exit()` or a signal.
 */
export function registerBeforeExit(hook: () => unknown): () => void {
  if (typeof hook !== 'function') throw new TypeError('registerBeforeExit() needs a function');
  const hooks = runtime().beforeExitHooks;
  hooks.add(hook);
  installExitHandling();
  return () => {
    hooks.delete(hook);
  };
}

/** Runs (once each) the hooks registered with `registerBeforeExit()`; errors are collected and rethrown. */
export async function runBeforeExitHooks(): Promise<void> {
  const hooks = runtime().beforeExitHooks;
  const errors: unknown[] = [];
  while (hooks.size > 0) {
    const batch = [...hooks];
    hooks.clear();
    for (const hook of batch) {
      try {
        await hook();
      } catch (error) {
        errors.push(error);
      }
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} before-exit hooks failed`);
}

/** The children still running, the daemonic ones first (once terminated, they are the quick ones to join). */
function liveChildren(): Process[] {
  const live = [...runtime().children].filter((child) => {
    const popen = getState(child).popen;
    return popen !== null && popen.returncode === null;
  });
  return [...live.filter((child) => child.daemon), ...live.filter((child) => !child.daemon)];
}

const terminatedAtExit = new WeakSet<Process>();

function terminateDaemons(keepLoopAlive: boolean): void {
  for (const child of liveChildren()) {
    const state = getState(child);
    if (!state.config.daemon || terminatedAtExit.has(child)) continue;
    terminatedAtExit.add(child);
    getLogger().info('calling terminate() for daemon %s', state.name);
    state.popen!.signal('SIGTERM');
    if (keepLoopAlive) state.popen!.ref();
  }
}

/** Whether `shutdownForExit()` would only log: no hooks, no children, no exit participants. */
export function nothingToShutDown(): boolean {
  const rt = runtime();
  return rt.beforeExitHooks.size === 0 && rt.children.size === 0 && participants().size === 0;
}

/**
 * A child's orderly end, after `run()`: hooks, then daemonic children
 * terminated, every child joined, warm interpreters stopped.
 */
export async function shutdownForExit(): Promise<void> {
  const logger = getLogger();
  logger.info('process shutting down');
  // Most processes have nothing to wind down: end without the awaits.
  if (nothingToShutDown()) return;
  try {
    await runBeforeExitHooks();
  } finally {
    terminateDaemons(false);
    await joinChildren();
    await Promise.all([...participants()].map((p) => p.shutdown()));
  }
}

/** The Popen of a live child. */
function popenOf(child: Process): Popen {
  return getState(child).popen!;
}

/** Joins every live child, one after the other as Python does (each wait keeps the event loop alive). */
async function joinChildren(): Promise<void> {
  const rt = runtime();
  for (let live = liveChildren(); live.length > 0; live = liveChildren()) {
    for (const child of live) {
      getLogger().info('calling join() for process %s', child.name);
      await popenOf(child).wait();
      rt.children.delete(child);
    }
  }
}

let beforeExitRan = false;
let joiningAtExit = false;

async function onBeforeExit(): Promise<void> {
  const rt = runtime();
  if (!beforeExitRan) {
    beforeExitRan = true;
    if (!rt.isChild) getLogger().info('process shutting down');
    try {
      await runBeforeExitHooks();
    } catch (error) {
      process.exitCode = 1;
      process.stderr.write(`Error in a before-exit hook: ${String((error as Error)?.stack ?? error)}\n`);
    }
  }
  // Daemons first: none may keep running while the program waits for the others.
  terminateDaemons(true);
  for (const participant of participants()) participant.beforeExit();
  if (joiningAtExit) return;
  joiningAtExit = true;
  try {
    await joinChildren();
  } finally {
    joiningAtExit = false;
  }
}

function onExit(): void {
  terminateDaemons(false);
  for (const participant of participants()) participant.exit();
  // Nothing can be awaited here: wait for each child with the whole thread, as Python's atexit join
  // does. A child that never ends keeps the program here, as in Python.
  for (const child of liveChildren()) {
    getLogger().info('calling join() for process %s', child.name);
    popenOf(child).waitSync();
  }
}

/** Installs the `beforeExit`/`exit` listeners once per OS process. */
export function installExitHandling(): void {
  const rt = runtime();
  if (rt.exitHandlingInstalled) return;
  rt.exitHandlingInstalled = true;
  process.on('beforeExit', () => {
    void onBeforeExit();
  });
  process.on('exit', onExit);
}
