/**
 * The pool's link to a worker process: two one-way OS pipes (tasks in,
 * results out) rather than one socketpair. A pipe costs the kernel about
 * 1.3 µs less per message here (a C ping-pong of 64-byte messages between two
 * processes: 2.1–2.3 µs per round trip over two pipes, 4.7–5.0 µs over a
 * socketpair), which is a good part of a short task's round trip. Each end
 * keeps an fd channel, so handles in tasks and results still travel.
 */
import { Connection } from '@mpjs/connection';
import { closeFd, pipe, socketpair } from '@mpjs/native';
import type { TaskChannel } from './channel.js';

/**
 * Buffer asked for each pipe: a chunk of results (~110 KB for 12,500 numbers)
 * then fits at once, where the default 64 KiB would make the worker wait for
 * the pool to read. Linux counts pipe buffers per user (`pipe-user-pages-soft`,
 * 64 MiB by default; past it, new pipes of that user get a small buffer), so
 * no more than this: a pool of 256 workers stays under it. Refused, it stays
 * 64 KiB.
 */
const PIPE_CAPACITY = 128 * 1024;

/** `[reader, writer]`: one way, from the second end to the first. Both read many messages at a time. */
export function oneWayPipe(): [Connection, Connection] {
  const [r, w] = pipe(PIPE_CAPACITY);
  let channel: [number, number];
  try {
    channel = socketpair();
  } catch (error) {
    closeFd(r);
    closeFd(w);
    throw error;
  }
  const reader = new Connection(r, { writable: false, readAhead: true, fdChannel: channel[0] });
  const writer = new Connection(w, { readable: false, fdChannel: channel[1] });
  return [reader, writer];
}

/** One side's channel over its two pipe ends: it receives on `incoming` and sends on `outgoing`. */
export function pipeChannel(incoming: Connection, outgoing: Connection): TaskChannel {
  return {
    send: (obj) => outgoing.send(obj),
    recv: () => incoming.recv(),
    close: () => {
      outgoing.close();
      incoming.close();
    },
  };
}
