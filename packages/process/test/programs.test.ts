/**
 * Whole programs run as `node --import tsx <fixture>`: TypeScript targets
 * through a real loader, output on stdout/stderr, the main-module guard,
 * exit handling at the end of a program, and a parent killed with SIGKILL.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { collect, eventually, isZombie, pidAlive, runFixture, tsNodeArgs } from '@mpjs/test-utils';
import { marker, processesWith, readJson, tempDir } from './helpers.js';
import type { Identity } from './fixtures/targets.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const tmp = tempDir();

afterAll(async () => {
  expect(await eventually(() => processesWith(marker).length === 0, 5_000)).toBe(true);
  tmp.cleanup();
});

describe.each(['spawn', 'forkserver'])('programs using %s', (method) => {
  it('runs TypeScript targets from the main module and another module under the tsx loader', async () => {
    const r = await runFixture(fixture('main-program.ts'), { args: [method, 'hello'] });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(['main is main: true (MainProcess)', 'hello bob!', 'exitcode 0', 'local target says hi', 'exitcode 0', ''].join('\n'));
    expect(r.code).toBe(0);
  });

  it('prints "Process Process-N:" and the stack of an uncaught error, and gives exit codes 1, 1, 7', async () => {
    const r = await runFixture(fixture('main-program.ts'), { args: [method, 'errors'] });
    expect(r.stdout).toBe('exitcode 1\nexitcode 1\nexitcode 7\n');
    expect(r.stderr).toMatch(/^Process Process-1:\nError: boom\n {4}at fail \(.*targets\.ts:\d+:\d+\)\n/);
    expect(r.stderr).toContain("Process Process-2:\nUncaught 'a plain string'\n");
    expect(r.stderr).not.toContain('Process-3');
    expect(r.code).toBe(0);
  });

  it('leaves the flags of a stdout pipe as they were once a child that printed to it has ended', async () => {
    const r = await runFixture(fixture('main-program.ts'), { args: [method, 'stdio-flags'] });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('local target says prints\nexitcode 0, flags of stdout as before\n');
  });

  it('lets children log as the parent does after logToStderr(), with their own names', async () => {
    const r = await runFixture(fixture('main-program.ts'), { args: [method, 'logging'] });
    expect(r.stdout).toBe('exitcode 0\n');
    const lines = r.stderr.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        '[INFO/MainProcess] main says hi',
        '[INFO/Process-1] child process calling self.run()',
        '[INFO/Process-1] hello from the child',
        '[DEBUG/Process-1] a debug line',
        '[INFO/Process-1] process exiting with exitcode 0',
      ]),
    );
    expect(lines.indexOf('[INFO/Process-1] child process calling self.run()')).toBeLessThan(lines.indexOf('[INFO/Process-1] hello from the child'));
  });

  it('logs warnings and above only, in the parent and the child, after logToStderr() without a level', async () => {
    const r = await runFixture(fixture('main-program.ts'), { args: [method, 'logging-default'] });
    expect(r.stdout).toBe('exitcode 0\n');
    expect(r.stderr).toBe('[WARNING/MainProcess] main (warning)\n[WARNING/Process-1] child (warning)\n');
  });

  it('names a grandchild Process-1:1 and gives it its parent', async () => {
    const r = await runFixture(fixture('main-program.ts'), { args: [method, 'nested', tmp.dir] });
    expect(r.stdout).toBe('exitcode 0\n');
    const child = readJson<{ grandchild: string; exitcode: number; during: string[]; after: number }>(`${tmp.dir}/child.json`);
    expect(child).toEqual({ grandchild: 'Process-1:1', exitcode: 0, during: ['Process-1:1'], after: 0 });
    const grandchild = readJson<Identity>(`${tmp.dir}/grandchild.json`);
    expect(grandchild.name).toBe('Process-1:1');
    expect(grandchild.parent).toEqual({ name: 'Process-1', pid: grandchild.ppid, alive: true });
  });

  it('waits for non-daemonic children at the end of the program and terminates daemonic ones', async () => {
    const r = await runFixture(fixture('main-program.ts'), { args: [method, 'daemons'] });
    expect(r.stderr).toBe('');
    const [daemon, worker] = /pids (\d+) (\d+)/.exec(r.stdout)!.slice(1).map(Number);
    expect(r.stdout).toContain('local target says from the non-daemonic child\n');
    expect(r.stdout).toContain('at exit: daemon exitcode -15, worker exitcode 0\n');
    expect(r.code).toBe(0);
    expect(pidAlive(daemon!)).toBe(false);
    expect(pidAlive(worker!)).toBe(false);
  });

  /** The lines of a run of exit-program.ts, and the pids it printed. */
  const runExitProgram = async (how: string) => {
    const r = await runFixture(fixture('exit-program.ts'), { args: [method, how] });
    const lines = r.stdout.trimEnd().split('\n');
    const [worker, daemon] = /^pids (\d+) (\d+)$/.exec(lines[0]!)!.slice(1).map(Number) as [number, number];
    const after = lines.slice(lines.indexOf('main done') + 1);
    return { r, lines, worker, daemon, after };
  };

  it.each([
    ['ends on its own', 'end', 0],
    ['ends with an uncaught error', 'crash', 1],
    ['ends with process.exit(3)', 'exit', 3],
  ])('when the program %s, the daemonic child is terminated at once and the other joined to its end', async (_what, how, code) => {
    const { r, lines, worker, daemon, after } = await runExitProgram(how as string);
    expect(r.code).toBe(code);
    // The non-daemonic child printed everything, whichever way the program ended.
    expect(lines.filter((l) => l.startsWith('worker '))).toEqual(['worker 0', 'worker 1', 'worker 2', 'worker 3', 'worker 4']);
    // The daemon stopped when the program did (a line in flight at that moment at most), not when the worker did.
    expect(lines).toContain('daemon 0');
    expect(after.filter((l) => l.startsWith('daemon ')).length).toBeLessThanOrEqual(1);
    expect(after).toContain('worker 4');
    expect(lines.at(-1)).toBe(`at exit: worker exitcode 0, daemon exitcode -15, code ${code}`);
    if (how === 'crash') expect(r.stderr).toContain('Error: main crashed');
    else expect(r.stderr).toBe('');
    expect(pidAlive(worker)).toBe(false);
    expect(pidAlive(daemon)).toBe(false);
  });

  it('after process.exit(), waits for a child that never ends, as Python does, until something ends it', async () => {
    const child = spawn(process.execPath, [...tsNodeArgs, fixture('exit-program.ts'), method, 'exit-forever'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    const done = collect(child, 30_000);
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('main done\n')) resolve();
      });
      child.once('exit', () => reject(new Error(`the program ended early: ${out}`)));
    });
    const [worker, daemon] = /pids (\d+) (\d+)/.exec(out)!.slice(1).map(Number) as [number, number];
    // process.exit() was called; the program waits for the worker (the daemon was terminated).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(pidAlive(child.pid!)).toBe(true);
    expect(pidAlive(worker)).toBe(true);
    // Terminated (a zombie until its parent, blocked on the worker, ends).
    expect(await eventually(() => !pidAlive(daemon) || isZombie(daemon), 5_000)).toBe(true);
    process.kill(worker, 'SIGTERM');
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('at exit: worker exitcode -15, daemon exitcode -15, code 0\n');
    expect(r.stderr).toBe('');
    expect(pidAlive(worker)).toBe(false);
  });

  it('refuses to start a process while a child is still importing its target (unguarded module)', async () => {
    const r = await runFixture(fixture('recursive.ts'), { args: [method] });
    expect(r.stdout).toBe('exitcode 1\n');
    expect(r.stderr).toContain('Process Process-1:\nProcessError: An attempt has been made to start a new process before the\ncurrent process has finished its bootstrapping phase.');
    expect(r.stderr).toContain('runMain(import.meta');
    expect(r.stderr).not.toContain('Process-1:1');
  });

  it('takes its children down when it is killed with SIGKILL', async () => {
    // A subreaper reaps the orphans (this machine's pid 1 does not), so nothing is left as a zombie.
    const reaper = spawn('python3', [fixture('reaper.py'), process.execPath, ...tsNodeArgs, fixture('parent-killed.ts'), method], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    const done = collect(reaper, 30_000);
    let line = '';
    await new Promise<void>((resolve, reject) => {
      reaper.stdout!.on('data', (chunk: Buffer) => {
        line += chunk.toString();
        if (line.includes('\n')) resolve();
      });
      reaper.once('exit', () => reject(new Error(`the parent fixture ended early: ${line}`)));
    });
    const { parent, children } = JSON.parse(line) as { parent: number; children: number[] };
    expect(children.every(pidAlive)).toBe(true);
    const family = processesWith(marker).filter((pid) => pid !== reaper.pid);
    expect(family.length).toBeGreaterThanOrEqual(4);
    process.kill(parent, 'SIGKILL');
    expect(await eventually(() => processesWith(marker).every((pid) => pid === reaper.pid), 10_000)).toBe(true);
    const result = await done;
    expect(result.code).toBe(0);
    expect(children.some(pidAlive)).toBe(false);
  });
});

/** The Node built-ins the fixture's target imports (the packages' own are not imported as ES modules when built). */
const BASELINE_IMPORTS = "import 'node:module';";

describe('a spawned child', () => {
  it('starts without loading what running a target does not need', async () => {
    // Plain node and the built package, as installed: a loader would load modules of its own.
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.MPJS_EXEC_ARGV;
    const child = spawn(process.execPath, [fixture('startup-program.mjs')], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const r = await collect(child);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [childLine, parentLine] = r.stdout.trim().split('\n');
    const { builtins, required } = JSON.parse(childLine!) as { builtins: string[]; required: string[] };
    const { parentBuiltins } = JSON.parse(parentLine!) as { parentBuiltins: string[] };
    // What Node loads by itself for an ES module program that imports what the target does.
    const bare = spawn(
      process.execPath,
      ['--input-type=module', '-e', `${BASELINE_IMPORTS} const list = JSON.stringify(process.moduleLoadList); process.stdout.write(list);`],
      { stdio: ['ignore', 'pipe', 'pipe'], env },
    );
    const baseline = new Set(JSON.parse((await collect(bare)).stdout) as string[]);
    // Each would cost every child about a millisecond: node:v8 (the control frames' header is
    // JSON), node:worker_threads (asked for only when a child starts a process of its own),
    // node:vm (only function lookups use it), node:net and the streams (the control channel
    // reads with system calls; a built-in imported as an ES module would load its lazy parts,
    // node:fs its streams), node-gyp-build (the addon is opened directly).
    const avoidable = builtins.filter(
      (name) => /^NativeModule (v8|worker_threads|vm|net|stream|internal\/fs\/streams)$/.test(name) && !baseline.has(name),
    );
    expect(avoidable).toEqual([]);
    expect(required.filter((file) => file.includes('node-gyp-build'))).toEqual([]);
    // The parent made an authkey for the child without node:crypto or Web Crypto (about 2 ms
    // each to load): the kernel's random bytes are read directly.
    expect(parentBuiltins.filter((name) => /^NativeModule (crypto|internal\/crypto\/webcrypto)$/.test(name))).toEqual([]);
  });
});
