// The spec's "Using a remote manager": a server for a single shared queue.
// Run: node --import tsx docs/examples/manager-remote-server.ts [port]
// then, from other shells: manager-remote-put.ts and manager-remote-get.ts.
import { BaseManager, QueueReferent } from '@mpjs/managers';

const queue = new QueueReferent();
class QueueManager extends BaseManager {}
// getServer() serves in this very process, so the callable may be a closure.
QueueManager.register('get_queue', () => queue);

const port = Number(process.argv[2] ?? 50000);
// As Python's ('', 50000): every interface.
const m = new QueueManager({ address: ['', port], authkey: 'abracadabra' });
const server = m.getServer();
const address = await server.ready();
console.log(`serving on port ${(address as [string, number])[1]}`);
// Serves until this process is stopped (Ctrl-C): a client's shutdown() only closes that
// client's own connections (see manager-remote-put.ts).
await server.serveForever();
