/**
 * How the primitives travel. To another process: registered with the codec
 * of `@mpjs/serialization`, a primitive encodes as its cell (chunk id and
 * place) while its chunk's file descriptor goes on the codec's side channel;
 * `Process` puts it in the child's descriptor table (Python's inheritance)
 * and a `Connection` made by `Pipe()` passes it to a running process with
 * `SCM_RIGHTS`. Encoding without a side channel (a codec call with no
 * context) throws Python's "… objects should only be shared between
 * processes through inheritance". To another thread: `toShareable()` and
 * {@link fromShareable}.
 */
import { registerType } from '@mpjs/serialization';
import { Barrier, type BarrierAction } from './barrier.js';
import { Condition } from './condition.js';
import { Event } from './event.js';
import { Lock } from './lock.js';
import { RLock } from './rlock.js';
import { BoundedSemaphore, Semaphore } from './semaphore.js';
import { decodeCell, encodeCell } from './shared-state.js';
import type { AnyShareable, ShareableBarrier, ShareableCondition, ShareableEvent, ShareableLock, ShareableRLock, ShareableSemaphore } from './shareable.js';
import { kCell, kFromCell } from './symbols.js';

/** A primitive whose only state is its cell. */
type Simple = Lock | RLock | Semaphore | Event;

function registerSimple<T extends Simple>(name: string, type: abstract new (...args: never[]) => T, rebuild: (cell: ReturnType<typeof decodeCell>) => T): void {
  registerType<T>({
    name: `mpjs.synchronize.${name}`,
    module: import.meta.url,
    type,
    encode: (value, context) => encodeCell(value[kCell], context, name),
    decode: (data, context) => rebuild(decodeCell(data, context, name)),
  });
}

registerSimple('Lock', Lock, (cell) => Lock[kFromCell](cell));
registerSimple('RLock', RLock, (cell) => RLock[kFromCell](cell));
registerSimple('Semaphore', Semaphore, (cell) => Semaphore[kFromCell](cell));
registerSimple('BoundedSemaphore', BoundedSemaphore, (cell) => BoundedSemaphore[kFromCell](cell));
registerSimple('Event', Event, (cell) => Event[kFromCell](cell));

registerType<Condition>({
  name: 'mpjs.synchronize.Condition',
  module: import.meta.url,
  type: Condition,
  encode: (value, context) => ({ cell: encodeCell(value[kCell], context, 'Condition'), lock: value.lock }),
  decode: (data, context) => {
    const { cell, lock } = (data ?? {}) as { cell?: unknown; lock?: unknown };
    if (!(lock instanceof Lock) && !(lock instanceof RLock)) throw new TypeError('malformed Condition: its lock did not arrive as a Lock or an RLock');
    return Condition[kFromCell](decodeCell(cell, context, 'Condition'), lock);
  },
});

registerType<Barrier>({
  name: 'mpjs.synchronize.Barrier',
  module: import.meta.url,
  type: Barrier,
  encode: (value, context) => ({ cell: encodeCell(value[kCell], context, 'Barrier'), timeout: value.timeout, action: value.action }),
  decode: (data, context) => {
    const { cell, timeout, action } = (data ?? {}) as { cell?: unknown; timeout?: number | null; action?: BarrierAction | null };
    return Barrier[kFromCell](decodeCell(cell, context, 'Barrier'), { timeout: timeout ?? null, action: action ?? null });
  },
});

/** The primitive a `toShareable()` result describes, rebuilt in this thread (whatever its class). */
export function fromShareable(data: ShareableLock): Lock;
export function fromShareable(data: ShareableRLock): RLock;
export function fromShareable(data: ShareableSemaphore): Semaphore;
export function fromShareable(data: ShareableCondition): Condition;
export function fromShareable(data: ShareableEvent): Event;
export function fromShareable(data: ShareableBarrier): Barrier;
export function fromShareable(data: ShareableLock | ShareableRLock): Lock | RLock;
export function fromShareable(data: AnyShareable): Lock | RLock | Semaphore | Condition | Event | Barrier;
export function fromShareable(data: AnyShareable): Lock | RLock | Semaphore | Condition | Event | Barrier {
  switch ((data as Partial<AnyShareable> | null)?.type) {
    case 'Lock':
      return Lock.fromShareable(data as ShareableLock);
    case 'RLock':
      return RLock.fromShareable(data as ShareableRLock);
    case 'Semaphore':
    case 'BoundedSemaphore':
      return Semaphore.fromShareable(data as ShareableSemaphore);
    case 'Condition':
      return Condition.fromShareable(data as ShareableCondition);
    case 'Event':
      return Event.fromShareable(data as ShareableEvent);
    case 'Barrier':
      return Barrier.fromShareable(data as ShareableBarrier);
    default:
      throw new TypeError('fromShareable() expects what a primitive\'s toShareable() returned (Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event or Barrier), posted to this thread');
  }
}
