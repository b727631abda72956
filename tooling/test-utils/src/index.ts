/**
 * Helpers for tests that use real processes: run a TypeScript fixture in a
 * child Node process, and check that nothing (shared memory, processes) leaks.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Result of a finished child. */
export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runFixture}. */
export interface RunFixtureOptions {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  stdio?: StdioOptions;
  timeout?: number;
}

/** Arguments that let a child Node process import TypeScript files. */
export const tsNodeArgs: readonly string[] = ['--import', 'tsx'];

/** Starts `node --import tsx <file> ...args`. */
export function spawnFixture(file: string, options: RunFixtureOptions = {}): ChildProcess {
  return spawn(process.execPath, [...tsNodeArgs, file, ...(options.args ?? [])], {
    env: options.env ?? process.env,
    stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs a fixture to completion and collects its output. */
export function runFixture(file: string, options: RunFixtureOptions = {}): Promise<ChildResult> {
  const child = spawnFixture(file, options);
  return collect(child, options.timeout ?? 20_000);
}

/** Waits for a child to exit (killing it after `timeout` ms) and collects its output. */
export function collect(child: ChildProcess, timeout = 20_000): Promise<ChildResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child ${child.pid} did not exit within ${timeout} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeout);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Names in /dev/shm (POSIX named shared memory and semaphores). */
export function listDevShm(): string[] {
  try {
    return readdirSync('/dev/shm').sort();
  } catch {
    return [];
  }
}

/** Whether a process with this pid exists (and is not a zombie we could reap). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether `pid` has exited and waits to be reaped: a zombie (Linux). */
export function isZombie(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Polls `check` until it returns true or `timeout` ms pass. */
export async function eventually(check: () => boolean | Promise<boolean>, timeout = 5_000, interval = 20): Promise<boolean> {
  const end = Date.now() + timeout;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, interval));
  }
}

/**
 * Pids of live processes (zombies included), other than this one, whose
 * environment contains `value`. A test file puts a random marker in its
 * environment, so every process it starts inherits it and leaks are found.
 */
export function processesWithEnv(value: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(value)) found.push(Number(entry));
    } catch {
      // Gone, or not ours.
    }
  }
  return found;
}
