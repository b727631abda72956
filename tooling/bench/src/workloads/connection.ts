/**
 * Connections between two processes, side by side with CPython's
 * `multiprocessing.Pipe` and `multiprocessing.connection.Listener/Client`:
 *
 * - Pipe round trip of a small object (`send`/`recv`, an echo child), µs;
 * - Pipe round trip of 64 bytes (`sendBytes`/`recvBytes`), µs;
 * - Pipe throughput of 1 MiB messages from a child, MB/s (the clock starts at
 *   the first message, so process start-up is not counted);
 * - Listener/Client connect with the HMAC handshake (AF_UNIX), ms per
 *   connection, the listener in a child accepting in a loop: the first 500
 *   connections to a fresh listener, and 500 after 3,000 others. Node's code
 *   is compiled as it runs, so the first connections of a process pay for
 *   that (about 0.5 ms each here); CPython's interpreter runs them alike.
 *
 * Medians of three runs, after a warm-up. mpjs's Pipe reads exactly the header
 * and then the payload (like CPython) and writes a frame with one syscall when
 * the kernel has room; send() encodes with MessagePack where CPython pickles.
 * Cross-process wake-ups on this VM are bimodal (~2 µs on the same vCPU, 6–13
 * µs across), so only compare figures of the same run.
 */
import { randomBytes } from 'node:crypto';
import { Client, Pipe, type Address, type Connection } from '@mpjs/connection';
import { Process } from '@mpjs/process';
import { medianOf, type Workload } from '../harness.js';
import { acceptMany, echoBytes, echoObjects, sendMany } from './connection-child.js';

const ROUND_TRIPS = 10_000;
const WARM_UP = 1_000;
const MiB = 1 << 20;
const LARGE = 500;
const CONNECTS = 500;
/** Connections made before the steady-state figure is taken (both runtimes alike). */
const CONNECT_WARM_UP = 3000;
const SMALL_OBJECT = { id: 1, op: 'add', args: [1, 2.5, 'three'], done: false };

/** Starts an echo child on a Pipe; returns our end and the process. */
function echoChild(target: typeof echoObjects): { conn: Connection; p: Process } {
  const [conn, child] = Pipe();
  const p = new Process({ target, args: [child] });
  p.start();
  child.close();
  return { conn, p };
}

async function finish(conn: Connection, p: Process): Promise<void> {
  conn.close();
  await p.join();
  if (p.exitcode !== 0) throw new Error(`connection benchmark child exited with ${p.exitcode}`);
}

/** µs per round trip of `send(obj)` / `recv()` through an echo child. */
async function objectRoundTrip(): Promise<number> {
  const { conn, p } = echoChild(echoObjects);
  for (let i = 0; i < WARM_UP; i++) {
    conn.send(SMALL_OBJECT);
    await conn.recv();
  }
  const t0 = performance.now();
  for (let i = 0; i < ROUND_TRIPS; i++) {
    conn.send(SMALL_OBJECT);
    await conn.recv();
  }
  const us = ((performance.now() - t0) * 1000) / ROUND_TRIPS;
  const last = (await (conn.send(SMALL_OBJECT), conn.recv())) as typeof SMALL_OBJECT;
  if (last.args[2] !== 'three') throw new Error('connection workload: echo returned the wrong object');
  await finish(conn, p);
  return us;
}

/** µs per round trip of 64 bytes with `sendBytes` / `recvBytes`. */
async function bytesRoundTrip(): Promise<number> {
  const { conn, p } = echoChild(echoBytes);
  const payload = Buffer.alloc(64, 7);
  for (let i = 0; i < WARM_UP; i++) {
    conn.sendBytes(payload);
    await conn.recvBytes();
  }
  const t0 = performance.now();
  for (let i = 0; i < ROUND_TRIPS; i++) {
    conn.sendBytes(payload);
    await conn.recvBytes();
  }
  const us = ((performance.now() - t0) * 1000) / ROUND_TRIPS;
  conn.sendBytes(payload);
  if (!(await conn.recvBytes()).equals(payload)) throw new Error('connection workload: echo returned the wrong bytes');
  await finish(conn, p);
  return us;
}

/** MB/s of 1 MiB messages sent by a child. */
async function throughput(): Promise<number> {
  const [conn, child] = Pipe(false);
  const p = new Process({ target: sendMany, args: [child, LARGE, MiB] });
  p.start();
  child.close();
  let total = (await conn.recvBytes()).length;
  const t0 = performance.now();
  for (let i = 1; i < LARGE; i++) total += (await conn.recvBytes()).length;
  const seconds = (performance.now() - t0) / 1000;
  if (total !== LARGE * MiB) throw new Error('connection workload: wrong amount of data received');
  await finish(conn, p);
  return ((LARGE - 1) * MiB) / seconds / 1e6;
}

/**
 * ms per Client() (connect + mutual HMAC handshake) to a Listener in a child,
 * over `CONNECTS` connections after `warmUp` unmeasured ones.
 */
async function connectWithAuth(warmUp: number): Promise<number> {
  const authkey = randomBytes(32);
  const [control, child] = Pipe();
  const p = new Process({ target: acceptMany, args: [child, warmUp + CONNECTS, authkey] });
  p.start();
  child.close();
  const address = (await control.recv()) as Address;
  for (let i = 0; i < warmUp; i++) (await Client(address, { authkey })).close();
  const t0 = performance.now();
  for (let i = 0; i < CONNECTS; i++) (await Client(address, { authkey })).close();
  const ms = (performance.now() - t0) / CONNECTS;
  await finish(control, p);
  return ms;
}

const PY_PRELUDE = `
import multiprocessing as mp, os, statistics, time
from multiprocessing.connection import Listener, Client

def echo_objects(c):
    while True:
        try:
            m = c.recv()
        except EOFError:
            break
        c.send(m)

def echo_bytes(c):
    while True:
        try:
            m = c.recv_bytes()
        except EOFError:
            break
        c.send_bytes(m)

def send_many(c, n, size):
    payload = b'\\x01' * size
    for _ in range(n):
        c.send_bytes(payload)
    c.close()

def accept_many(control, n, authkey):
    with Listener(authkey=authkey, backlog=16) as listener:
        control.send(listener.address)
        for _ in range(n):
            listener.accept().close()

def start(target, *args, duplex=True):
    ours, theirs = mp.Pipe(duplex)
    p = mp.Process(target=target, args=(theirs, *args))
    p.start()
    theirs.close()
    return ours, p

def finish(conn, p):
    conn.close()
    p.join()
    assert p.exitcode == 0
`;

function pythonRoundTrip(kind: 'objects' | 'bytes'): string {
  const [send, recv, value] =
    kind === 'objects'
      ? ['send', 'recv', "{'id': 1, 'op': 'add', 'args': [1, 2.5, 'three'], 'done': False}"]
      : ['send_bytes', 'recv_bytes', "b'\\x07' * 64"];
  return `${PY_PRELUDE}
def once():
    conn, p = start(echo_${kind})
    value = ${value}
    for _ in range(${WARM_UP}):
        conn.${send}(value); conn.${recv}()
    t = time.perf_counter()
    for _ in range(${ROUND_TRIPS}):
        conn.${send}(value); conn.${recv}()
    us = (time.perf_counter() - t) * 1e6 / ${ROUND_TRIPS}
    finish(conn, p)
    return us

if __name__ == '__main__':
    mp.set_start_method('spawn')
    print(statistics.median(once() for _ in range(3)))
`;
}

const PY_THROUGHPUT = `${PY_PRELUDE}
def once():
    ours, theirs = mp.Pipe(False)
    p = mp.Process(target=send_many, args=(theirs, ${LARGE}, ${MiB}))
    p.start()
    theirs.close()
    total = len(ours.recv_bytes())
    t = time.perf_counter()
    for _ in range(${LARGE} - 1):
        total += len(ours.recv_bytes())
    seconds = time.perf_counter() - t
    assert total == ${LARGE} * ${MiB}
    finish(ours, p)
    return (${LARGE} - 1) * ${MiB} / seconds / 1e6

if __name__ == '__main__':
    mp.set_start_method('spawn')
    print(statistics.median(once() for _ in range(3)))
`;

function pythonConnect(warmUp: number): string {
  return `${PY_PRELUDE}
def once():
    authkey = os.urandom(32)
    control, p = start(accept_many, ${warmUp + CONNECTS}, authkey)
    address = control.recv()
    for _ in range(${warmUp}):
        Client(address, authkey=authkey).close()
    t = time.perf_counter()
    for _ in range(${CONNECTS}):
        Client(address, authkey=authkey).close()
    ms = (time.perf_counter() - t) * 1e3 / ${CONNECTS}
    finish(control, p)
    return ms

if __name__ == '__main__':
    mp.set_start_method('spawn')
    print(statistics.median(once() for _ in range(3)))
`;
}

const workloads: Workload[] = [
  {
    group: 'connection',
    name: 'Pipe round trip of a small object (send/recv, echo child)',
    unit: 'µs',
    lowerIsBetter: true,
    node: () => medianOf(3, objectRoundTrip),
    python: pythonRoundTrip('objects'),
  },
  {
    group: 'connection',
    name: 'Pipe round trip of 64 bytes (sendBytes/recvBytes, echo child)',
    unit: 'µs',
    lowerIsBetter: true,
    node: () => medianOf(3, bytesRoundTrip),
    python: pythonRoundTrip('bytes'),
  },
  {
    group: 'connection',
    name: `Pipe throughput, ${LARGE} messages of 1 MiB from a child`,
    unit: 'MB/s',
    lowerIsBetter: false,
    node: () => medianOf(3, throughput),
    python: PY_THROUGHPUT,
  },
  {
    group: 'connection',
    name: `Listener/Client connect with HMAC authentication (AF_UNIX), first ${CONNECTS} to a fresh listener`,
    unit: 'ms',
    lowerIsBetter: true,
    node: () => medianOf(3, () => connectWithAuth(0)),
    python: pythonConnect(0),
  },
  {
    group: 'connection',
    name: `Listener/Client connect with HMAC authentication (AF_UNIX), ${CONNECTS} after ${CONNECT_WARM_UP} others`,
    unit: 'ms',
    lowerIsBetter: true,
    node: () => medianOf(3, () => connectWithAuth(CONNECT_WARM_UP)),
    python: pythonConnect(CONNECT_WARM_UP),
  },
];

export default workloads;
