/**
 * `Pipe()`: a pair of connected Connections (Python's `multiprocessing.Pipe`).
 * Both ends sit on an AF_UNIX socketpair; each end also gets one end of a
 * second socketpair, its fd channel, so that handles (a Connection, a lock…)
 * can be sent through the pipe to a process that is already running.
 */
import { closeFd, socketpair } from '@mpjs/native';
import { Connection, type ConnectionOptions } from './connection.js';

/** Options of {@link Pipe} besides `duplex`. */
export type PipeOptions = Pick<ConnectionOptions, 'codec' | 'maxMessageSize' | 'readAhead'>;

/**
 * Returns two connected ends. With `duplex` (the default) both can send and
 * receive; with `duplex = false` the first end only receives and the second
 * only sends.
 */
export function Pipe(duplex = true, options: PipeOptions = {}): [Connection, Connection] {
  const [a, b] = socketpair();
  let channel: [number, number];
  try {
    channel = socketpair();
  } catch (error) {
    closeFd(a);
    closeFd(b);
    throw error;
  }
  const first = new Connection(a, { ...options, writable: duplex, fdChannel: channel[0] });
  const second = new Connection(b, { ...options, readable: duplex, fdChannel: channel[1] });
  return [first, second];
}
