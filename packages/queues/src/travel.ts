/**
 * How queues travel to other processes: as `Process` arguments, their
 * shared memory's descriptor goes on the codec's side channel (the child
 * finds it in its stdio table) and the receiving side maps the same memory.
 * Decoding in another thread of the same process opens a descriptor of its
 * own, so each queue object owns the one it closes.
 */
import { registerType } from '@mpjs/serialization';
import { attachShared, channelOf } from './core.js';
import { JoinableQueue } from './joinable-queue.js';
import { QueueKind } from './messages.js';
import { Queue, kAttach, type InternalOptions } from './queue.js';
import { SimpleQueue } from './simple-queue.js';

registerType<Queue>({
  name: 'mpjs.Queue',
  module: import.meta.url,
  type: Queue,
  encode: (queue, context) => channelOf(queue).share(context),
  decode: (data, context) => {
    const attached = attachShared(data, context, [QueueKind.QUEUE, QueueKind.JOINABLE]);
    const options = { [kAttach]: attached } as InternalOptions;
    return attached.ring.kind === QueueKind.JOINABLE ? new JoinableQueue(0, options) : new Queue(0, options);
  },
});

registerType<SimpleQueue>({
  name: 'mpjs.SimpleQueue',
  module: import.meta.url,
  type: SimpleQueue,
  encode: (queue, context) => channelOf(queue).share(context),
  decode: (data, context) => new SimpleQueue({ [kAttach]: attachShared(data, context, [QueueKind.SIMPLE]) } as InternalOptions),
});
