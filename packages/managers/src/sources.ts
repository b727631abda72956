/**
 * Inside a manager's server, a proxy of that very server stands for its
 * referent (Python's `RebuildProxy` gives the server its own object): what
 * `manager.list(l)`, `manager.dict(d)`, `d.update(other)` and `l.extend(l2)`
 * read when given such a proxy. The value is copied as if it had been sent,
 * so a nested proxy becomes a proxy of its own (with its own reference).
 * The proxy argument itself is released at once: it was only read.
 */
import { defaultCodec } from '@mpjs/serialization';
import { BaseProxy, localReferent } from './proxy.js';
import { releaseSymbol } from './token.js';

function copyOf(value: unknown): unknown {
  return defaultCodec.decode(defaultCodec.encode(value, { handles: [] }));
}

/** What a proxy argument stands for here: `{ value }` (a copy of its referent's value), or undefined for any other argument. */
export function proxySource(value: unknown, what: string): { value: unknown; referent: unknown } | undefined {
  if (!(value instanceof BaseProxy)) return undefined;
  const local = localReferent(value);
  if (!local) {
    throw new TypeError(
      `${what}: a proxy of another manager (or of an object this manager has freed) cannot be read in this server; ` +
        'pass a copy instead: await proxy._getvalue()',
    );
  }
  const referent = local.referent as { _getvalue?: () => unknown } | null;
  const raw = referent !== null && typeof referent === 'object' && typeof referent._getvalue === 'function' ? referent._getvalue() : referent;
  const copied = copyOf(raw);
  // Only read, never kept: give its reference back now rather than at the server's next garbage collection.
  value[releaseSymbol]();
  return { value: copied, referent };
}
