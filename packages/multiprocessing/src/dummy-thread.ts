/**
 * Entry of a `DummyProcess` thread: decodes the target and its arguments
 * (shared objects arrive with their own descriptors), runs it, and reports
 * the error it threw, if any.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { defaultCodec, type HandleRecord } from '@mpjs/serialization';

/** What a `DummyProcess` passes to its thread. */
export interface DummyThreadData {
  /** `[target, args]`, encoded (the target travels by reference). */
  bytes: Uint8Array;
  /** Descriptors of the shared objects in `args`, owned by the thread. */
  handles: HandleRecord[];
}

/** What the thread posts back when the target has returned or thrown. */
export interface DummyThreadReport {
  /** The encoded error, when the target threw. */
  error?: Uint8Array;
}

if (parentPort) {
  const port = parentPort;
  const { bytes, handles } = workerData as DummyThreadData;
  let report: DummyThreadReport = {};
  try {
    const [target, args] = (await defaultCodec.decodeAsync(bytes, { handles })) as [(...a: unknown[]) => unknown, unknown[]];
    await target(...args);
  } catch (error) {
    report = { error: defaultCodec.encode(error) };
  }
  port.postMessage(report);
}
