/**
 * Connections travel between real processes: inherited at spawn (fds in the
 * child's stdio table, as Process will do) and sent to running processes
 * inside messages (SCM_RIGHTS over the fd channel).
 */
import { describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { collect, spawnFixture } from '@mpjs/test-utils';
import { Client, Connection, Listener, Pipe, ValueError } from '../src/index.js';

const fixture = fileURLToPath(new URL('./fixtures/peer-child.ts', import.meta.url));

/** Starts a peer child whose control connection is the returned parent end. */
function startChild(role: string): { control: Connection; child: ChildProcess; done: ReturnType<typeof collect> } {
  const [parentEnd, childEnd] = Pipe();
  const child = spawnFixture(fixture, {
    args: [role],
    stdio: ['ignore', 'pipe', 'pipe', childEnd.fileno(), childEnd.fdChannelFd!],
  });
  // The child has its own copies now; ours must go so EOF works.
  childEnd.close();
  return { control: parentEnd, child, done: collect(child, 20_000) };
}

describe('passing connections between processes', () => {
  it('a child rebuilds a connection from inherited descriptors and echoes objects', async () => {
    const { control, done } = startChild('echo');
    const value = { list: [1, 'two', null], nested: { big: 'x'.repeat(100_000) } };
    control.send(value);
    expect(await control.recv()).toEqual(value);
    control.close();
    const result = await done;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('a Connection sent to two running children lets them talk to each other directly', async () => {
    const a = startChild('pinger');
    const b = startChild('ponger');
    const [x, y] = Pipe();
    a.control.send({ conn: x, note: 'via fd passing' });
    b.control.send({ conn: y, note: 'via fd passing' });
    // Only the children hold the new pipe now.
    x.close();
    y.close();
    const [reportA, reportB] = (await Promise.all([a.control.recv(), b.control.recv()])) as Array<{
      role: string;
      got: string;
      peer: number;
    }>;
    expect(reportA).toEqual({ role: 'pinger', got: 'pong', peer: b.child.pid });
    expect(reportB).toEqual({ role: 'ponger', got: 'ping (via fd passing)', peer: a.child.pid });
    a.control.close();
    b.control.close();
    const [resultA, resultB] = await Promise.all([a.done, b.done]);
    expect([resultA.code, resultB.code]).toEqual([0, 0]);
    expect(resultA.stderr + resultB.stderr).toBe('');
  });

  it('a Connection can come back from a child, and both copies reach the same pipe', async () => {
    const { control, done } = startChild('forward');
    const [mine, theirs] = Pipe();
    control.send({ conn: theirs });
    const { back } = (await control.recv()) as { back: Connection };
    expect(back).toBeInstanceOf(Connection);
    expect(back.fileno()).not.toBe(theirs.fileno());
    expect(await mine.recv()).toBe('written by the child');
    back.send('written through the returned copy');
    expect(await mine.recv()).toBe('written through the returned copy');
    for (const c of [mine, theirs, back, control]) c.close();
    expect((await done).code).toBe(0);
  });

  it('a parent that keeps its copy of the child end never takes the child’s messages', async () => {
    const [parentEnd, childEnd] = Pipe();
    const child = spawnFixture(fixture, {
      args: ['echo'],
      stdio: ['ignore', 'pipe', 'pipe', childEnd.fileno(), childEnd.fdChannelFd!],
    });
    const done = collect(child, 20_000);
    // childEnd stays open here (as in `Process(target, args=(child_conn,))` without closing it).
    for (let i = 0; i < 50; i++) {
      parentEnd.send(i);
      expect(await parentEnd.recv()).toBe(i);
    }
    childEnd.close();
    parentEnd.close();
    expect((await done).code).toBe(0);
  });

  it('an open connection nobody reads does not keep a process alive', async () => {
    const { control, done } = startChild('idle');
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('idle child done\n');
    control.close();
  });

  it('handles cannot travel over a socket connection, and the error says what to do', async () => {
    const listener = await new Listener({ address: ['127.0.0.1', 0] }).ready();
    const [server, client] = await Promise.all([listener.accept(), Client(listener.address)]);
    const [x, y] = Pipe();
    expect(() => client.send({ conn: x })).toThrow(ValueError);
    expect(() => client.send({ conn: x })).toThrow(/only connections made by Pipe\(\) can carry handles/);
    // The connection is still usable.
    client.send('plain');
    expect(await server.recv()).toBe('plain');
    for (const c of [server, client, x, y]) c.close();
    listener.close();
  });

  it('a closed Connection cannot be sent', () => {
    const [a, b] = Pipe();
    const [x, y] = Pipe();
    x.close();
    expect(() => a.send(x)).toThrow(/closed Connection/);
    for (const c of [a, b, y]) c.close();
  });
});
