import { afterAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { ctx, runAll, stopAndCheck } from './helpers.js';
import { Event } from '../src/index.js';
import { eventWaiter, setLater, SharedInts } from './fixtures/targets.js';

afterAll(async () => {
  expect(await stopAndCheck()).toBe(true);
});

describe('Event in one process', () => {
  it('set(), clear(), isSet() and wait()', async () => {
    const event = new Event();
    expect(event.isSet()).toBe(false);
    expect(await event.wait(10)).toBe(false);
    expect(event.waitSync(10)).toBe(false);
    expect(await event.wait(-1)).toBe(false);
    event.set();
    event.set();
    expect(event.isSet()).toBe(true);
    expect(await event.wait()).toBe(true);
    expect(event.waitSync(0)).toBe(true);
    event.clear();
    event.clear();
    expect(event.isSet()).toBe(false);
    expect(String(event)).toBe('Event(unset)');
  });

  it('wakes every waiter; a set() followed at once by clear() still wakes them (as threading.Event)', async () => {
    const event = new Event();
    const waiters = Array.from({ length: 10 }, () => event.wait({ timeout: 10_000 }));
    await sleep(20);
    event.set();
    event.clear();
    expect(await Promise.all(waiters)).toEqual(Array(10).fill(true));
    expect(event.isSet()).toBe(false);
  });

  it('an aborted wait rejects with the reason', async () => {
    const event = new Event();
    const controller = new AbortController();
    const reason = new Error('enough');
    const waiting = event.wait(undefined, { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 10);
    await expect(waiting).rejects.toBe(reason);
    await expect(event.wait({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });
});

describe('Event across processes', () => {
  it('children waiting (async and blocking) see a set() from here; a timeout gives false', async () => {
    const event = new Event();
    const out = new SharedInts(3);
    const children = [
      ctx.Process({ target: eventWaiter, args: [event, out, 0, 20_000, 'async'] }),
      ctx.Process({ target: eventWaiter, args: [event, out, 1, 20_000, 'sync'] }),
    ];
    for (const p of children) p.start();
    await sleep(200);
    expect(out.toArray()).toEqual([0, 0, 0]);
    event.set();
    await Promise.all(children.map((p) => p.join()));
    expect(children.map((p) => p.exitcode)).toEqual([0, 0]);
    expect(out.toArray()).toEqual([1, 1, 0]);
    event.clear();
    expect(await runAll([ctx.Process({ target: eventWaiter, args: [event, out, 2, 30, 'async'] })])).toEqual([0]);
    expect(out.get(2)).toBe(2);
    out.close();
  });

  it('a wait here sees a set() from a child', async () => {
    const event = new Event();
    const p = ctx.Process({ target: setLater, args: [event, 50] });
    p.start();
    expect(await event.wait(20_000)).toBe(true);
    await p.join();
    expect(p.exitcode).toBe(0);
  });
});
