/** The target of a manager's server process (what `manager.start()` runs in the child). */
import type { Address, Connection } from '@mpjs/connection';
import { currentProcess } from '@mpjs/process';
import { getLogger } from '@mpjs/util';
import { formatValue } from './format.js';
import { Server, type ServerRegistry } from './server.js';

/**
 * Runs a manager's server in this process: listens, calls the initializer,
 * reports `['ok', address]` (or `['error', error]`) on `control`, then serves
 * until a client asks for shutdown, or the manager sends `'shutdown'` on
 * `control`, or closes it (its process ended).
 */
export async function runManagerServer(
  registry: ServerRegistry,
  address: Address | null,
  authkey: Buffer,
  control: Connection,
  initializer: ((...args: never[]) => unknown) | null,
  initargs: unknown[],
): Promise<void> {
  // Daemonic for its parent (never waited for, ended when the parent exits), yet
  // allowed children of its own, a Pool's workers, as Python's server process is.
  currentProcess().daemon = false;
  let server: Server;
  try {
    if (initializer) await (initializer as (...args: unknown[]) => unknown)(...initargs);
    server = new Server(registry, { address, authkey });
    const bound = await server.ready();
    getLogger().info('manager serving at %s', formatValue(bound));
    control.send(['ok', bound]);
  } catch (error) {
    control.send(['error', error]);
    await control.flush();
    control.close();
    return;
  }
  // Whatever arrives ('shutdown'), or the end of the pipe, stops the server.
  control.recv().then(
    () => server.stop(),
    () => server.stop(),
  );
  try {
    await server.serveForever();
  } finally {
    control.close();
  }
}
