/**
 * The child of the bare `child_process.fork` and `cluster` runners of the
 * node-pools benchmark: answers each IPC message `{ id, x }` with `{ id, y: x * x }`.
 *
 * It says `{ ready: true }` once it listens: a cluster worker's channel reads
 * from the start, and an ES module entry loads asynchronously, so messages
 * sent before the listener exists would be dropped.
 */
process.on('message', (message: { id: number; x: number }) => {
  process.send!({ id: message.id, y: message.x * message.x });
});
process.send!({ ready: true });
