// Small helpers shared by this package's tests.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { futexWake } from '../src/index.js';

/** Absolute path of a fixture in test/fixtures. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** Resolves with the first stdout line of `child` that matches, or rejects if it exits first. */
export function waitForLine(child: ChildProcess, match: RegExp, timeout = 15_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    const timer = setTimeout(() => done(new Error(`no line matching ${match} within ${timeout} ms; stdout: ${buffered} stderr: ${stderr}`)), timeout);
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString();
      const found = buffered.split('\n').map((line) => match.exec(line)).find((m) => m !== null);
      if (found) done(undefined, found);
    };
    const onErr = (chunk: Buffer): void => {
      stderr += chunk.toString();
    };
    const onExit = (code: number | null, signal: string | null): void =>
      done(new Error(`child exited (${code ?? signal}) before printing ${match}; stdout: ${buffered} stderr: ${stderr}`));
    function done(error?: Error, m?: RegExpMatchArray): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onErr);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(m!);
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onErr);
    child.on('exit', onExit);
  });
}

/** Waits for a child to exit and returns its code and signal. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/**
 * Wakes `count` waiters of a word, retrying while async waiters are still on
 * their way into the kernel. Returns how many were woken in total.
 */
export async function wakeUntil(view: Int32Array, index: number, count: number, timeout = 5_000): Promise<number> {
  let woken = 0;
  const end = Date.now() + timeout;
  while (woken < count && Date.now() < end) {
    woken += futexWake(view, index, count - woken);
    if (woken < count) await new Promise((r) => setTimeout(r, 5));
  }
  return woken;
}

/** Whether a promise has settled, checked after pending callbacks ran. */
export async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((r) => setImmediate(r));
  return settled;
}

/** Whether `pid` is a live process (a zombie waiting to be reaped counts as gone). */
export function processRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The `Shmem:` line of /proc/meminfo, in bytes. */
export function shmemBytes(): number {
  const match = /^Shmem:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  if (!match) throw new Error('no Shmem line in /proc/meminfo');
  return Number(match[1]) * 1024;
}
