/**
 * Numeric indexing (`a[i]`, `a[i] = v`, `a[-1]`) for array-like classes
 * (internal).
 *
 * Instances are ordinary objects; a `Proxy` sits at the end of their
 * prototype chain, so it is consulted only for properties found nowhere else:
 * methods and fields are looked up at full speed, and an index goes to the
 * instance's own `get(i)`/`set(i, v)` (which check bounds and, for
 * synchronized arrays, take the lock).
 */

/** What an indexable class implements. */
interface Indexable {
  get(index: number): unknown;
  set(index: number, value: unknown): void;
}

/** The integer a property key stands for, or `undefined` if it is not an integer key. */
function indexOf(key: string | symbol): number | undefined {
  if (typeof key !== 'string') return undefined;
  const c = key.charCodeAt(0);
  if (!((c >= 48 && c <= 57) || c === 45)) return undefined;
  const n = Number(key);
  return Number.isInteger(n) && String(n) === key ? n : undefined;
}

const fallback: object = Object.create(Object.prototype) as object;

const indexer = new Proxy(fallback, {
  get(target, key, receiver: Indexable) {
    const i = indexOf(key);
    return i === undefined ? Reflect.get(target, key, receiver) : receiver.get(i);
  },
  set(target, key, value, receiver: Indexable) {
    const i = indexOf(key);
    if (i === undefined) return Reflect.set(target, key, value, receiver);
    receiver.set(i, value);
    return true;
  },
});

/**
 * The base of classes whose instances index like arrays: `a[i]` calls
 * `a.get(i)`, `a[i] = v` calls `a.set(i, v)`. Integer keys only; `i in a` and
 * `Object.keys(a)` do not list indexes (iterate instead).
 */
export abstract class Indexed {}
Object.setPrototypeOf(Indexed.prototype, indexer);
