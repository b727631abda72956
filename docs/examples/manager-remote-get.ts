// Another client of manager-remote-server.ts: gets what was put.
// Run: node --import tsx docs/examples/manager-remote-get.ts [port]
import { BaseManager, type QueueProxy } from '@mpjs/managers';

class QueueManager extends BaseManager {
  declare get_queue: () => Promise<QueueProxy<string>>;
}
QueueManager.register('get_queue');

const port = Number(process.argv[2] ?? 50000);
const m = new QueueManager({ address: ['127.0.0.1', port], authkey: 'abracadabra' });
await m.connect();
const queue = await m.get_queue();
console.log(await queue.get()); // prints "hello"
await m.shutdown();
