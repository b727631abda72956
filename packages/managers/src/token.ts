/** What identifies a shared object: the server's address and the object's id. */
import type { Address } from '@mpjs/connection';

/** Python's `Token`: the type id, the server's address and the object's id there. */
export interface Token {
  /** The type id the object was created under (`'list'`, `'Maths'`…). */
  readonly typeid: string;
  /** Address of the manager's server. */
  readonly address: Address;
  /** The object's id in that server. */
  readonly id: string;
}

/** A stable string for an address (a Map key). */
export function addressKey(address: Address): string {
  return typeof address === 'string' ? address : `${address[0]}:${address[1]}`;
}

/** A proxy's method that drops its server reference now (used when a server frees a container). */
export const releaseSymbol: unique symbol = Symbol.for('mpjs.managers.release') as never;

/**
 * A referent's method the server awaits when it stops serving (a pool ends its
 * workers then, as Python's server process does at exit).
 */
export const serverStopSymbol: unique symbol = Symbol.for('mpjs.managers.serverStop') as never;

/**
 * A referent's method the server calls with `(method, args, result)` when the
 * result of a call could not be delivered, because its caller gave up (its
 * signal) or went (its connection closed): it undoes what the call took, so
 * nothing is lost (an item got goes back to the queue, a lock acquired is
 * released).
 */
export const undeliveredSymbol: unique symbol = Symbol.for('mpjs.managers.undelivered') as never;

const kGone = Symbol.for('mpjs.managers.callerGone');

/** The reason a server aborts the waits of a caller whose connection closed. */
export function callerGoneReason(): Error {
  const reason = new DOMException('the caller of this manager call went away', 'AbortError');
  Object.defineProperty(reason, kGone, { value: true });
  return reason;
}

/** Whether `signal` was aborted because its caller went away (not merely gave up). */
export function callerGone(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && (signal.reason as { [kGone]?: boolean } | null)?.[kGone] === true;
}
