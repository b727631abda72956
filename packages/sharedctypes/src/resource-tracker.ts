/**
 * Cleanup of named shared memory (internal; Python's `resource_tracker`).
 *
 * The first time a process creates a named block, it starts a small tracker
 * process and keeps one end of a socket pair to it. Each created name is
 * written to the socket before `new SharedMemory()` returns, and struck off
 * by `unlink()`. When the creating process ends — normally, by an uncaught
 * error, or by `SIGKILL` — the kernel closes its end, the tracker reads end
 * of file and unlinks every name still on its list. The tracker ignores
 * SIGINT, SIGTERM and SIGHUP (it must outlive its creator to clean up), and
 * it is stopped a moment after the list becomes empty.
 */
import { writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { closeFd, socketpair } from '@mpjs/native';
import { lazyBuiltin } from '@mpjs/util';

/** Loaded when the tracker is first started, not with the package. */
const childProcess = lazyBuiltin<typeof import('node:child_process')>('node:child_process');

interface Tracker {
  /** Our end of the socket pair. */
  readonly fd: number;
  readonly pid: number | undefined;
  names: Set<string>;
  idle: NodeJS.Timeout | null;
}

/** How long an idle tracker is kept for the next name before it is stopped. */
const IDLE_MS = 1000;

let tracker: Tracker | null = null;

function scriptPath(): { path: string; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const path = fileURLToPath(new URL(fromSource ? './tracker.ts' : './tracker.js', import.meta.url));
  return { path, execArgv: fromSource ? ['--import', 'tsx'] : [] };
}

function start(): Tracker {
  const [mine, theirs] = socketpair();
  try {
    const { path, execArgv } = scriptPath();
    const child = childProcess().spawn(process.execPath, [...execArgv, path, String(process.pid)], {
      stdio: [theirs, 'ignore', 'inherit'],
      detached: true,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    child.on('error', () => {
      // Reported by the write that follows (EPIPE) or at cleanup; nothing to do here.
    });
    child.unref();
    return { fd: mine, pid: child.pid, names: new Set(), idle: null };
  } catch (error) {
    closeFd(mine);
    throw error;
  } finally {
    closeFd(theirs);
  }
}

function send(t: Tracker, line: string): Tracker {
  try {
    writeSync(t.fd, line);
    return t;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
    // The tracker died (someone killed it): start another and hand it the whole list.
    stop(t);
    const fresh = start();
    fresh.names = t.names;
    writeSync(fresh.fd, [...t.names].map((n) => `+${n}\n`).join('') + line);
    tracker = fresh;
    return fresh;
  }
}

function stop(t: Tracker): void {
  if (tracker === t) tracker = null;
  try {
    closeFd(t.fd);
  } catch {
    // Already closed.
  }
}

/** Puts a created name on the tracker's list (starting the tracker if needed). */
export function track(name: string): void {
  const t = (tracker ??= start());
  if (t.idle !== null) {
    clearTimeout(t.idle);
    t.idle = null;
  }
  send(t, `+${name}\n`).names.add(name);
}

/** Strikes a name off the list (after `unlink()`); does nothing for names not on it. */
export function untrack(name: string): void {
  const t = tracker;
  if (t === null || !t.names.delete(name)) return;
  send(t, `-${name}\n`);
  if (t.names.size === 0) {
    t.idle = setTimeout(() => stop(t), IDLE_MS);
    t.idle.unref();
  }
}

/** The tracker's pid while one runs (for tests). */
export function trackerPid(): number | undefined {
  return tracker?.pid;
}
