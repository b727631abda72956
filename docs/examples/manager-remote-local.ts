// The spec's "Using a remote manager", last part: a local process puts 'local hello' on a
// Queue, and this process serves that queue to remote clients.
// Run: node --import tsx docs/examples/manager-remote-local.ts [port]
// then, from another shell: node --import tsx docs/examples/manager-remote-get.ts [port]
// (it prints "local hello"). The server runs until this process is stopped (Ctrl-C).
import { Process, runMain } from '@mpjs/process';
import { Queue } from '@mpjs/queues';
import { BaseManager } from '@mpjs/managers';

// A Process subclass; the child imports this module to rebuild it, so it must be exported.
// Its own fields (here `q`) travel to the child.
export class Worker extends Process {
  q: Queue<string>;
  constructor(q: Queue<string>) {
    super();
    this.q = q;
  }
  override async run(): Promise<void> {
    await this.q.put('local hello');
  }
}

class QueueManager extends BaseManager {}

await runMain(import.meta, async () => {
  const queue = new Queue<string>();
  const w = new Worker(queue);
  w.start();

  // getServer() serves in this very process, so the callable may be a closure.
  QueueManager.register('get_queue', () => queue);
  const port = Number(process.argv[2] ?? 50000);
  // As Python's ('', 50000): every interface.
  const m = new QueueManager({ address: ['', port], authkey: 'abracadabra' });
  const s = m.getServer();
  const address = await s.ready();
  console.log(`serving on port ${(address as [string, number])[1]}`);
  await s.serveForever();
});
