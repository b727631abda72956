import { afterAll, describe, expect, it } from '@jest/globals';
import { closeSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { eventually } from '@mpjs/test-utils';
import { waitReady } from '@mpjs/util';
import { marker, processesWith, readJson, tempDir } from './helpers.js';
import {
  activeChildren,
  AssertionError,
  currentProcess,
  getContext,
  Process,
  ProcessError,
  ValueError,
  type ProcessOptions,
  type StartMethod,
} from '../src/index.js';
import {
  changeCodeAtExit,
  exitWith,
  fail,
  failLater,
  Greeter,
  joinParent,
  OptionsGreeter,
  nothing,
  recordArgs,
  recordArgsLater,
  reportExecArgv,
  reportIdentity,
  sleep,
  spin,
  summarizeBytes,
  tryToStartChild,
  type Identity,
} from './fixtures/targets.js';
import { FileHandle, Secret, reportSecret, writeThroughHandles } from './fixtures/handles.js';
import { defaultCodec } from '@mpjs/serialization';

const tmp = tempDir();

afterAll(async () => {
  await getContext('forkserver').stopForkserver();
  for (const child of activeChildren()) child.kill();
  await Promise.all(activeChildren().map((child) => child.join()));
  // Nothing this file started may survive it.
  expect(await eventually(() => processesWith(marker).length === 0, 5_000)).toBe(true);
  tmp.cleanup();
});

async function run(p: Process): Promise<number | null> {
  p.start();
  await p.join();
  return p.exitcode;
}

describe.each<StartMethod>(['spawn', 'forkserver'])('Process with start method %s', (method) => {
  const ctx = getContext(method);

  it('runs the target with args and kwargs (kwargs arrive as one last argument)', async () => {
    const out = tmp.file(`${method}-args.json`);
    const p = ctx.Process({ target: recordArgs, args: [out, 1, 'two', { three: ['3'] }], kwargs: { k: 'v', n: null } });
    expect(p.pid).toBeNull();
    expect(p.exitcode).toBeNull();
    expect(await run(p)).toBe(0);
    expect(readJson(out)).toEqual([1, 'two', { three: ['3'] }, { k: 'v', n: null }]);
    expect(p.pid).toEqual(expect.any(Number));
    expect(p.isAlive()).toBe(false);
  });

  it('passes a large argument whole (the process object arrives in many reads)', async () => {
    const out = tmp.file(`${method}-large.json`);
    const bytes = Buffer.alloc(48 << 20);
    for (let i = 0; i < bytes.length; i += 4093) bytes[i] = i % 251;
    let sum = 0;
    for (let i = 0; i < bytes.length; i++) sum = (sum + bytes[i]!) % 1_000_003;
    expect(await run(ctx.Process({ target: summarizeBytes, args: [out, bytes] }))).toBe(0);
    expect(readJson(out)).toEqual({ length: 48 << 20, sum });
  });

  it('awaits an async target', async () => {
    const out = tmp.file(`${method}-async.json`);
    expect(await run(ctx.Process({ target: recordArgsLater, args: [out, 'x'] }))).toBe(0);
    expect(readJson(out)).toEqual({ later: true, rest: ['x'] });
  });

  it("follows Python's exit codes: 0, 1 for an error or rejection, n for process.exit(n), -N for signal N", async () => {
    const ok = ctx.Process({ target: nothing });
    const thrown = ctx.Process({ target: fail, args: ['expected failure (test output)'] });
    const rejected = ctx.Process({ target: failLater, args: ['expected rejection (test output)'] });
    const exited = ctx.Process({ target: exitWith, args: [3] });
    const terminated = ctx.Process({ target: sleep, args: [30_000] });
    const killed = ctx.Process({ target: spin, args: [30_000] });
    const all = [ok, thrown, rejected, exited, terminated, killed];
    for (const p of all) p.start();
    await terminated.join(300);
    terminated.terminate();
    killed.kill();
    await Promise.all(all.map((p) => p.join()));
    expect(all.map((p) => p.exitcode)).toEqual([0, 1, 1, 3, -15, -9]);
    expect(terminated.toString()).toMatch(/^<Process name='Process-\d+' pid=\d+ parent=\d+ stopped exitcode=-SIGTERM>$/);
    expect(ok.toString()).toMatch(/ stopped exitcode=0>$/);
  });

  it("runs the child's 'exit' listeners when it ends, which may change its exit code as with process.exit()", async () => {
    const out = tmp.file(`${method}-exit-listener.json`);
    expect(await run(ctx.Process({ target: changeCodeAtExit, args: [out, 5] }))).toBe(5);
    expect(readJson(out)).toEqual({ given: 0 });
  });

  it('join(timeout) returns with the process still running; a process can be joined many times', async () => {
    const p = ctx.Process({ target: sleep, args: [30_000] });
    p.start();
    const before = performance.now();
    await p.join(100);
    expect(performance.now() - before).toBeGreaterThanOrEqual(90);
    expect(p.isAlive()).toBe(true);
    expect(p.exitcode).toBeNull();
    expect(p.toString()).toMatch(/ started>$/);
    expect(activeChildren()).toContain(p);
    p.kill();
    await p.join();
    await p.join();
    await p.join(0);
    expect(p.exitcode).toBe(-9);
    expect(activeChildren()).not.toContain(p);
  });

  it('refuses to join an unstarted process or itself', async () => {
    const p = ctx.Process({ target: nothing });
    await expect(p.join()).rejects.toThrow(AssertionError);
    await expect(p.join()).rejects.toThrow('can only join a started process');
    await expect(currentProcess().join()).rejects.toThrow(/cannot join itself/);
    expect(() => p.terminate()).toThrow(AssertionError);
    expect(() => p.sentinel).toThrow(ValueError);
    expect(p.toString()).toMatch(/ initial>$/);
  });

  it('close() throws ValueError while running, and most members throw ValueError afterwards', async () => {
    const p = ctx.Process({ target: sleep, args: [30_000] });
    p.start();
    expect(() => p.close()).toThrow(ValueError);
    expect(() => p.close()).toThrow(/still running/);
    p.terminate();
    await p.join();
    p.close();
    p.close();
    expect(() => p.pid).toThrow('process object is closed');
    expect(() => p.exitcode).toThrow(ValueError);
    expect(() => p.isAlive()).toThrow(ValueError);
    expect(() => p.sentinel).toThrow(ValueError);
    expect(() => p.start()).toThrow(ValueError);
    expect(() => p.kill()).toThrow(ValueError);
    await expect(p.join()).rejects.toThrow(ValueError);
    expect(p.name).toMatch(/^Process-\d+$/);
    expect(p.toString()).toMatch(/ closed>$/);
  });

  it('names processes Process-N and refuses to start one twice', async () => {
    const a = ctx.Process({ target: nothing });
    const b = new Process({ target: nothing, context: method });
    const na = Number(/^Process-(\d+)$/.exec(a.name)![1]);
    expect(b.name).toBe(`Process-${na + 1}`);
    expect(ctx.Process({ name: 'worker' }).name).toBe('worker');
    a.name = 'renamed';
    expect(a.name).toBe('renamed');
    expect(() => {
      a.name = 5 as unknown as string;
    }).toThrow(AssertionError);
    a.start();
    expect(() => a.start()).toThrow('cannot start a process twice');
    await a.join();
    expect(a.exitcode).toBe(0);
  });

  it('gives the child its name, pid, authkey, parent and daemon flag', async () => {
    const out = tmp.file(`${method}-identity.json`);
    const p = ctx.Process({ target: reportIdentity, args: [out], name: 'identity-check' });
    // A warm interpreter started before these changes must adopt them.
    process.env.MPJS_TEST_LATE = 'set before start';
    const cwd = process.cwd();
    process.chdir(tmp.dir);
    const expectedKey = currentProcess().authkey.toString('hex');
    try {
      p.start();
    } finally {
      process.chdir(cwd);
      delete process.env.MPJS_TEST_LATE;
    }
    await p.join();
    expect(p.exitcode).toBe(0);
    const id = readJson<Identity>(out);
    expect(id).toMatchObject({
      name: 'identity-check',
      pid: p.pid,
      ppid: process.pid,
      daemon: false,
      authkey: expectedKey,
      slotAuthkey: expectedKey,
      parent: { name: 'MainProcess', pid: process.pid, alive: true },
      exitcode: null,
      isAlive: true,
      activeChildren: 0,
      cwd: realpathSync(tmp.dir),
      env: 'set before start',
    });
    expect(currentProcess().authkey).toHaveLength(32);
  });

  it('passes a changed authkey and the daemon flag, and a daemonic process may not have children', async () => {
    const out = tmp.file(`${method}-daemon-id.json`);
    const tried = tmp.file(`${method}-daemon-try.json`);
    const p = ctx.Process({ target: reportIdentity, args: [out], daemon: true });
    p.authkey = Buffer.from('a secret of our own');
    expect(p.daemon).toBe(true);
    const q = ctx.Process({ target: tryToStartChild, args: [tried] });
    q.daemon = true;
    expect(await run(p)).toBe(0);
    expect(await run(q)).toBe(0);
    expect(() => {
      q.daemon = false;
    }).toThrow('process has already started');
    const id = readJson<Identity>(out);
    expect(id.daemon).toBe(true);
    expect(Buffer.from(id.authkey, 'hex').toString()).toBe('a secret of our own');
    expect(readJson(tried)).toEqual({
      started: false,
      name: 'AssertionError',
      code: 'ERR_MP_ASSERTION',
      message: 'daemonic processes are not allowed to have children',
    });
  });

  it('activeChildren() lists live children and reaps finished ones', async () => {
    const quick = ctx.Process({ target: nothing });
    const slow = ctx.Process({ target: sleep, args: [30_000] });
    quick.start();
    slow.start();
    expect(activeChildren()).toEqual(expect.arrayContaining([quick, slow]));
    expect(await eventually(() => quick.exitcode !== null, 10_000)).toBe(true);
    const live = activeChildren();
    expect(live).toContain(slow);
    expect(live).not.toContain(quick);
    slow.terminate();
    await slow.join();
    expect(activeChildren()).toEqual([]);
  });

  it('rebuilds a Process subclass with its own fields in the child and calls its run()', async () => {
    const out = tmp.file(`${method}-greeter.json`);
    const g = new Greeter(out, 'hi', 3);
    expect(g.name).toMatch(/^Greeter-\d+$/);
    g.start();
    await g.join();
    expect(g.exitcode).toBe(0);
    expect(readJson(out)).toEqual({ greeting: 'hi', count: 3, name: g.name, isGreeter: true, isProcess: true, current: true });
  });

  it('refuses a closure target at start() with an error that says what to do', () => {
    const local = (): void => {};
    const p = ctx.Process({ target: local });
    expect(() => p.start()).toThrow(/cannot start Process-\d+: .*export/is);
    expect(p.pid).toBeNull();
    expect(activeChildren()).not.toContain(p);
  });

  it('has a sentinel that wait() can use: ready once the process ends', async () => {
    const p = ctx.Process({ target: sleep, args: [150] });
    p.start();
    const sentinel = p.sentinel;
    expect(sentinel.ready).toBe(false);
    const aborted = new AbortController();
    const abandoned = sentinel[waitReady](aborted.signal);
    aborted.abort(new Error('gave up'));
    await expect(abandoned).rejects.toThrow('gave up');
    await sentinel[waitReady](new AbortController().signal);
    expect(sentinel.ready).toBe(true);
    expect(p.exitcode).toBe(0);
    await p.join();
  });

  it('passes OS handles found while encoding the arguments in the child', async () => {
    const report = tmp.file(`${method}-handles.json`);
    const target = tmp.file(`${method}-handles.txt`);
    const fd = openSync(target, 'a');
    const other = openSync(target, 'a');
    try {
      const p = ctx.Process({ target: writeThroughHandles, args: [report, [new FileHandle(fd, 'a'), new FileHandle(other, 'b')], 'written by the child'] });
      expect(await run(p)).toBe(0);
    } finally {
      closeSync(fd);
      closeSync(other);
    }
    expect(readFileSync(target, 'utf8')).toBe('written by the child:a\nwritten by the child:b\n');
    const seen = readJson<Array<{ fd: number; label: string }>>(report);
    expect(seen.map((h) => h.label)).toEqual(['a', 'b']);
    expect(new Set(seen.map((h) => h.fd)).size).toBe(2);
    // spawn puts them in the stdio table from fd 4 on; a warm interpreter receives them with SCM_RIGHTS.
    if (method === 'spawn') expect(seen.map((h) => h.fd)).toEqual([4, 5]);
    else expect(seen.map((h) => h.fd).some((fd) => fd === 4 || fd === 5)).toBe(false);
  });

  it('tells registered types that the arguments are encoded for a child being started (context.spawning)', async () => {
    const report = tmp.file(`${method}-secret.json`);
    expect(await run(ctx.Process({ target: reportSecret, args: [report, new Secret('only for children')] }))).toBe(0);
    expect(readJson(report)).toEqual({ secret: 'only for children' });
    // Any other encoding (a pipe, a queue) is not a spawn: the secret stays behind.
    expect((defaultCodec.decode(defaultCodec.encode(new Secret('kept'), { handles: [] })) as Secret).secret).toBeNull();
  });
});

describe('join() with { signal } and long timeouts', () => {
  it('rejects with the reason when the signal aborts, and leaves the process running', async () => {
    const p = new Process({ target: sleep, args: [10_000] });
    p.start();
    try {
      const reason = new Error('stop joining');
      const controller = new AbortController();
      setTimeout(() => controller.abort(reason), 50);
      const started = performance.now();
      await expect(p.join(undefined, { signal: controller.signal })).rejects.toBe(reason);
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(p.isAlive()).toBe(true);
      // At once when already aborted; the timeout inside the options, or first.
      await expect(p.join({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      await expect(p.join(5_000, { signal: AbortSignal.timeout(30) })).rejects.toMatchObject({ name: 'TimeoutError' });
      await p.join({ timeout: 20 });
      expect(p.exitcode).toBeNull();
      await expect(p.join(10, { signal: 'x' as unknown as AbortSignal })).rejects.toThrow(/join: "signal" must be an AbortSignal/);
      await expect(p.join({ timeout: 'soon' as unknown as number })).rejects.toThrow(/join: "timeout" must be a number/);
    } finally {
      p.kill();
      await p.join();
    }
    expect(p.exitcode).toBe(-9);
  });

  it("a child's parentProcess().join() takes a timeout and { signal } too", async () => {
    const out = tmp.file('join-parent.json');
    expect(await run(new Process({ target: joinParent, args: [out] }))).toBe(0);
    expect(readJson(out)).toEqual({ afterTimeout: true, aborted: 'TimeoutError' });
  });

  it('join(2 ** 31) waits for the process instead of returning after 1 ms', async () => {
    const p = new Process({ target: sleep, args: [300] });
    p.start();
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      await p.join(2 ** 31);
    } finally {
      process.off('warning', onWarning);
    }
    expect(p.exitcode).toBe(0);
    expect(warnings).toEqual([]);
  });
});

describe('Process construction', () => {
  it('validates its options', () => {
    expect(() => new Process({ target: 5 as unknown as () => void })).toThrow(TypeError);
    expect(() => new Process({ kwargs: [] as unknown as Record<string, unknown> })).toThrow(/kwargs/);
    expect(() => new Process(null as unknown as object)).toThrow(TypeError);
    expect(() => new Process({ context: 'fork' as StartMethod })).toThrow(/cannot fork/);
  });

  it('refuses an unknown option, naming it, a near known one, and the known ones (a typo would run nothing)', () => {
    const known = 'the options are target, args, kwargs, name, daemon, context';
    expect(() => new Process({ targt: nothing } as ProcessOptions)).toThrow(
      new TypeError(`new Process(): unknown option "targt" (did you mean "target"?); ${known}`),
    );
    expect(() => new Process({ target: nothing, Args: [1] } as ProcessOptions)).toThrow(/unknown option "Args" \(did you mean "args"\?\)/);
    expect(() => new Process({ target: nothing, priority: 5 } as ProcessOptions)).toThrow(
      new TypeError(`new Process(): unknown option "priority"; ${known}`),
    );
    // A context's factory goes through the same check.
    expect(() => getContext('spawn').Process({ deamon: true } as ProcessOptions)).toThrow(/unknown option "deamon" \(did you mean "daemon"\?\)/);
    // Options given as undefined are fine.
    expect(() => new Process({ target: undefined, args: undefined, name: undefined, daemon: undefined })).not.toThrow();
  });

  it('says what args, kwargs, name and daemon must be', () => {
    expect(() => new Process({ target: nothing, args: 5 as unknown as unknown[] })).toThrow(
      new TypeError("new Process(): args must be an array (or another iterable) of the target's arguments, got number 5; for one argument write args: [value]"),
    );
    expect(() => new Process({ args: null as unknown as unknown[] })).toThrow(/args must be an array .* got null/);
    expect(() => new Process({ args: { 0: 'a' } as unknown as unknown[] })).toThrow(/args must be an array .* got an object/);
    // Any iterable, as Python's tuple(args): a Set, a generator, even a string.
    expect(() => new Process({ args: new Set([1, 2]) })).not.toThrow();
    expect(() => new Process({ args: 'ab' })).not.toThrow();
    expect(() => new Process({ kwargs: new Map() as unknown as Record<string, unknown> })).toThrow(
      /kwargs must be a plain object \(it is passed to the target as one last argument\), got an instance of Map/,
    );
    expect(() => new Process({ kwargs: Object.create(null) as Record<string, unknown> })).not.toThrow();
    expect(() => new Process({ name: 5 as unknown as string })).toThrow(new TypeError('new Process(): name must be a string, got number 5'));
    expect(() => new Process({ daemon: 'no' as unknown as boolean })).toThrow(new TypeError('new Process(): daemon must be true or false, got "no"'));
    expect(() => new Process({ daemon: 1 as unknown as boolean })).toThrow(TypeError);
    const p = new Process();
    expect(() => {
      p.daemon = 'yes' as unknown as boolean;
    }).toThrow(/daemon must be true or false, got "yes"/);
    expect(p.daemon).toBe(false);
  });

  it('lets a subclass pass its own fields in the options it gives super(), and runs it', async () => {
    const out = tmp.file('options-greeter.json');
    const g = new OptionsGreeter({ greeting: 'hello', file: out, name: 'greeter' });
    expect(await run(g)).toBe(0);
    expect(readJson(out)).toEqual({ greeting: 'hello', name: 'greeter' });
  });

  it('inherits the daemon flag of the creating process (false in the main process)', () => {
    expect(new Process().daemon).toBe(false);
    expect(new Process({ daemon: true }).daemon).toBe(true);
    expect(currentProcess().daemon).toBe(false);
  });

  it('describes the main process', () => {
    const me = currentProcess();
    expect(me.name).toBe('MainProcess');
    expect(me.pid).toBe(process.pid);
    expect(me.isAlive()).toBe(true);
    expect(me.toString()).toBe(`<Process name='MainProcess' parent=None started>`);
  });

  it('fails at start() when the executable cannot be launched', () => {
    const ctx = getContext('spawn');
    ctx.setExecutable('/nonexistent/node');
    try {
      expect(() => ctx.Process({ target: nothing }).start()).toThrow(ProcessError);
      expect(() => ctx.Process({ target: nothing }).start()).toThrow(/setExecutable/);
    } finally {
      ctx.setExecutable(null);
    }
    expect(activeChildren()).toEqual([]);
  });

  it('lets the program choose child Node options', async () => {
    const ctx = getContext('spawn');
    const out = tmp.file('exec-argv.json');
    ctx.setExecArgv(['--import', 'tsx', '--max-old-space-size=64']);
    try {
      expect(await run(ctx.Process({ target: reportExecArgv, args: [out] }))).toBe(0);
    } finally {
      ctx.setExecArgv(null);
    }
    expect(readJson(out)).toEqual(['--import', expect.stringMatching(/^file:.*\/tsx\//), '--max-old-space-size=64']);
    expect(() => ctx.setExecArgv('--import tsx' as unknown as string[])).toThrow(ValueError);
  });
});
