/** Contexts and start methods, the main-module guard, exec options, the control frames, hooks. */
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { fstatSync, readSync, writeSync } from 'node:fs';
import { closeFd, socketpair } from '@mpjs/native';
import { marker, processesWith, readJson, tempDir } from './helpers.js';
import { eventually } from '@mpjs/test-utils';
import {
  activeChildren,
  BaseContext,
  cpuCount,
  currentProcess,
  defaultContext,
  ForkServerContext,
  freezeSupport,
  getAllStartMethods,
  getContext,
  getStartMethod,
  isMainModule,
  kAuthkey,
  parentProcess,
  Process,
  ProcessError,
  runMain,
  setStartMethod,
  SpawnContext,
  ValueError,
} from '../src/index.js';
import { filterExecArgv, getExecArgv } from '../src/exec-options.js';
import { ControlChannel } from '../src/control-channel.js';
import { encodeFrame, FrameReader, MessageKind, type ControlMessage, type StartMessage } from '../src/messages.js';
import { withBeforeExitHook } from './fixtures/targets.js';

const tmp = tempDir();

afterAll(async () => {
  expect(await eventually(() => processesWith(marker).length === 0, 5_000)).toBe(true);
  tmp.cleanup();
});

describe('contexts', () => {
  it('offers spawn and forkserver, spawn first (the default)', () => {
    expect(getAllStartMethods()).toEqual(['spawn', 'forkserver']);
    expect(getContext('spawn')).toBeInstanceOf(SpawnContext);
    expect(getContext('forkserver')).toBeInstanceOf(ForkServerContext);
    expect(getContext('spawn')).toBeInstanceOf(BaseContext);
    expect(getContext('spawn').getStartMethod()).toBe('spawn');
    expect(getContext('forkserver').getContext()).toBe(getContext('forkserver'));
    expect(getContext('forkserver').getContext('spawn')).toBe(getContext('spawn'));
  });

  it("explains that 'fork' cannot exist in Node, and rejects unknown methods", () => {
    expect(() => getContext('fork')).toThrow(ValueError);
    expect(() => getContext('fork')).toThrow(/Node\.js cannot fork.*'spawn'.*'forkserver'/s);
    expect(() => setStartMethod('fork')).toThrow(/cannot fork/);
    expect(() => getContext('threads')).toThrow(/cannot find context for "threads"/);
  });

  it('sets the start method once, unless forced', () => {
    expect(getStartMethod(true)).toBeNull();
    setStartMethod('forkserver');
    expect(getStartMethod()).toBe('forkserver');
    expect(defaultContext.getContext()).toBe(getContext('forkserver'));
    expect(() => setStartMethod('spawn')).toThrow(ProcessError);
    expect(() => setStartMethod('spawn')).toThrow('context has already been set');
    setStartMethod('spawn', { force: true });
    expect(getStartMethod()).toBe('spawn');
    setStartMethod(null, { force: true });
    expect(getStartMethod(true)).toBeNull();
    expect(getStartMethod()).toBe('spawn');
    expect(getStartMethod(true)).toBe('spawn');
    setStartMethod(null, { force: true });
    expect(() => getContext('spawn').setStartMethod('forkserver')).toThrow('cannot set start method of concrete context');
  });

  it('makes processes with ctx.Process() (no new) bound to the context', () => {
    const p = getContext('forkserver').Process({ name: 'bound' });
    expect(p).toBeInstanceOf(Process);
    expect(p.name).toBe('bound');
    expect(defaultContext.Process({})).toBeInstanceOf(Process);
  });

  it('has the module functions and error classes', () => {
    const ctx = getContext('spawn');
    expect(ctx.currentProcess()).toBe(currentProcess());
    expect(ctx.parentProcess()).toBeNull();
    expect(parentProcess()).toBeNull();
    expect(ctx.activeChildren()).toEqual(activeChildren());
    expect(ctx.cpuCount()).toBe(cpuCount());
    expect(cpuCount()).toBeGreaterThanOrEqual(1);
    expect(ctx.ProcessError).toBe(ProcessError);
    expect(freezeSupport()).toBeUndefined();
    expect(ctx.freezeSupport()).toBeUndefined();
  });

  it('can be extended by other packages through BaseContext.prototype', () => {
    const proto = BaseContext.prototype as unknown as { Extra?: () => string };
    proto.Extra = function (this: BaseContext) {
      return `extra for ${this.getStartMethod() ?? 'default'}`;
    };
    try {
      expect((getContext('spawn') as unknown as { Extra(): string }).Extra()).toBe('extra for spawn');
    } finally {
      delete proto.Extra;
    }
  });
});

describe('the main-module guard', () => {
  it('is false for a module that is not the entry point (here jest is), and follows import.meta.main where defined', async () => {
    const thisModule = { url: import.meta.url };
    expect(isMainModule(thisModule)).toBe(false);
    expect(isMainModule({ url: import.meta.url, main: false })).toBe(false);
    // jest (like Node 24 for the entry module) sets import.meta.main on a test file.
    expect(isMainModule(import.meta)).toBe((import.meta as { main?: boolean }).main ?? false);
    let ran = false;
    await runMain(thisModule, () => {
      ran = true;
    });
    expect(ran).toBe(false);
  });

  it('is true for the entry script, given as a path or URL, with or without its extension', async () => {
    const entry = process.argv[1]!;
    expect(isMainModule(entry)).toBe(true);
    expect(isMainModule({ url: `file://${entry}` })).toBe(true);
    expect(isMainModule({ url: 'file:///elsewhere.js', main: true })).toBe(true);
    let ran = false;
    await runMain(entry, async () => {
      ran = true;
    });
    expect(ran).toBe(true);
    await expect(runMain(entry, () => Promise.reject(new Error('entry failed')))).rejects.toThrow('entry failed');
    expect(() => runMain(entry, 5 as unknown as () => void)).toThrow(TypeError);
  });
});

describe('child Node options', () => {
  it("drops options that would make a child run something else", () => {
    expect(filterExecArgv(['--import', 'tsx', '-e', 'code', '--inspect=9229', '--eval=x', '--test', '--watch', '--max-old-space-size=64', '-p', '1', '--test-reporter', 'spec', '--require', 'x.cjs']))
      .toEqual(['--import', 'tsx', '--max-old-space-size=64', '--require', 'x.cjs']);
  });

  it('takes MPJS_EXEC_ARGV from the environment when set, with loaders made absolute', () => {
    const argv = getExecArgv();
    expect(argv).toHaveLength(2);
    expect(argv[0]).toBe('--import');
    // Resolved against the directory the program started in, so a child started elsewhere finds it.
    expect(argv[1]).toMatch(/^file:\/\/\/.*\/tsx\/dist\/loader\.mjs$/);
  });
});

describe('control frames', () => {
  it('are reassembled from any split of the byte stream', () => {
    const payload = Buffer.from('payload bytes');
    const frame = encodeFrame({ kind: MessageKind.READY, pid: 42 }, payload);
    const twice = Buffer.concat([frame, encodeFrame({ kind: MessageKind.READY, pid: 7 })]);
    for (let cut = 1; cut < twice.length; cut += 3) {
      const reader = new FrameReader();
      const frames = [...reader.push(twice.subarray(0, cut)), ...reader.push(twice.subarray(cut))];
      expect(frames.map((f) => f.message)).toEqual([{ kind: 'ready', pid: 42 }, { kind: 'ready', pid: 7 }]);
      expect(frames[0]!.payload.toString()).toBe('payload bytes');
      expect(frames[1]!.payload.length).toBe(0);
    }
  });

  it('carry a START message exactly: the authkey as bytes, handle metadata as the codec carries it', () => {
    const authkey = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37) & 0xff));
    const message: StartMessage = {
      kind: MessageKind.START,
      name: 'Process-1:2',
      identity: [1, 2],
      authkey,
      daemon: false,
      parentPid: 42,
      parentName: 'Process-1',
      startMethod: 'forkserver',
      logging: { enabled: true, level: 10 },
      handles: [{ kind: 'plain' }, { kind: 'rich', meta: { pid: 7, sizes: new Map([[1, 2n ** 70n]]), when: new Date(0), list: [null, -0] } }],
      handleTransport: 'scm-rights',
      deathSignal: true,
      cwd: '/tmp/ü €',
      envChanges: { set: [['A', 'a\nb "c"']], unset: ['B'] },
    };
    const [frame] = new FrameReader().push(encodeFrame(message, Buffer.from([9, 8, 7])));
    const received = frame!.message as StartMessage;
    expect(received).toEqual(message);
    expect(Buffer.isBuffer(received.authkey)).toBe(true);
    expect(Object.is((received.handles[1]!.meta as { list: number[] }).list[1], -0)).toBe(true);
    expect([...frame!.payload]).toEqual([9, 8, 7]);
  });

  it('are joined once however many chunks a large frame arrives in', () => {
    const payload = Buffer.alloc(4 << 20, 7);
    const frame = encodeFrame({ kind: MessageKind.READY, pid: 3 }, payload);
    const reader = new FrameReader();
    const concat = jest.spyOn(Buffer, 'concat');
    try {
      const frames = [];
      for (let at = 0; at < frame.length; at += 1000) frames.push(...reader.push(frame.subarray(at, at + 1000)));
      expect(frames).toHaveLength(1);
      expect(frames[0]!.message).toEqual({ kind: 'ready', pid: 3 });
      expect(frames[0]!.payload.equals(payload)).toBe(true);
      // Once for the header, once for the whole frame: not once per chunk (4,195 of them).
      expect(concat.mock.calls.length).toBeLessThanOrEqual(2);
    } finally {
      concat.mockRestore();
    }
  });

  it('are taken by kind, in order, whether they arrived before or after they were asked for', async () => {
    const [parentEnd, childEnd] = socketpair();
    const send = (bytes: Uint8Array): number => writeSync(parentEnd, bytes);
    let ends = 0;
    const channel = new ControlChannel(childEnd);
    void channel.ended.then(() => ends++);
    const a = encodeFrame({ kind: MessageKind.READY, pid: 1 });
    const b = encodeFrame({ kind: MessageKind.REHEARSAL, code: 3 } as unknown as ControlMessage);
    const c = encodeFrame({ kind: MessageKind.READY, pid: 2 });
    send(a.subarray(0, 3));
    const first = channel.next(MessageKind.READY);
    send(Buffer.concat([a.subarray(3), b.subarray(0, 5)]));
    expect((await first).message).toEqual({ kind: 'ready', pid: 1 });
    expect(channel.has(MessageKind.REHEARSAL)).toBe(false);
    // A frame already sent is there at once, without a turn of the event loop.
    send(Buffer.concat([b.subarray(5), c]));
    expect(channel.has(MessageKind.REHEARSAL)).toBe(true);
    expect(channel.has(MessageKind.START)).toBe(false);
    // Frames of other kinds before the one asked for are passed over.
    expect((await channel.next(MessageKind.READY)).message).toEqual({ kind: 'ready', pid: 2 });
    expect(channel.has(MessageKind.REHEARSAL)).toBe(false);
    const later = channel.next(MessageKind.REHEARSAL);
    send(encodeFrame({ kind: MessageKind.REHEARSAL, code: 7 } as unknown as ControlMessage));
    expect((await later).message).toEqual({ kind: 'rehearsal', code: 7 });
    // Frames the channel writes reach the other end whole.
    channel.write(c);
    const echoed = Buffer.alloc(c.length + 1);
    expect(readSync(parentEnd, echoed)).toBe(c.length);
    expect(new FrameReader().push(echoed.subarray(0, c.length))[0]!.message).toEqual({ kind: 'ready', pid: 2 });
    // The parent's end closing is reported, and closes the child's end.
    await new Promise((resolve) => setImmediate(resolve));
    expect(ends).toBe(0);
    closeFd(parentEnd);
    await channel.ended;
    expect(ends).toBe(1);
    expect(() => fstatSync(childEnd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});

describe('the authkey slot and before-exit hooks', () => {
  it('publishes the current authkey in a global slot', () => {
    const slot = (): unknown => (globalThis as Record<symbol, unknown>)[kAuthkey];
    const original = currentProcess().authkey;
    expect(kAuthkey).toBe(Symbol.for('mpjs.authkey'));
    expect(slot()).toEqual(original);
    currentProcess().authkey = Buffer.from('replaced');
    try {
      expect(slot()).toEqual(Buffer.from('replaced'));
    } finally {
      currentProcess().authkey = original;
    }
  });

  it('awaits hooks registered with registerBeforeExit() after the target, in the child', async () => {
    const out = tmp.file('hooks.json');
    const p = getContext('spawn').Process({ target: withBeforeExitHook, args: [out] });
    p.start();
    await p.join();
    expect(p.exitcode).toBe(0);
    expect(readJson(out)).toEqual(['target', 'hook']);
  });
});
