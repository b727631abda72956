/**
 * Python's `==` for the values a list holds (`x in l`, `l.count(x)`,
 * `l.index(x)`, `l.remove(x)`), as far as JS values allow: primitives by
 * SameValueZero (`0` equals `-0`; `NaN` equals `NaN`, as Python's `nan in
 * [nan]` is for the same object, and every NaN that arrives in a message is
 * the same here), an integer number equals the same bigint (`1 == 1n`), and
 * plain data (arrays, plain objects, Maps, Sets, Dates, typed arrays) by
 * value. Proxies are equal when they refer to the same object.
 */
import { isDeepStrictEqual } from 'node:util';
import { BaseProxy } from './proxy.js';
import { addressKey } from './token.js';

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === Object.prototype || proto === null;
}

/** Whether `a == b` as Python compares such values. */
export function pyEqual(a: unknown, b: unknown): boolean {
  return equal(a, b, new Map());
}

function equal(a: unknown, b: unknown, inProgress: Map<object, Set<object>>): boolean {
  if (a === b) return true;
  const ta = typeof a;
  const tb = typeof b;
  if (ta === 'number' && tb === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if ((ta === 'number' || ta === 'bigint') && (ta !== tb) && (tb === 'number' || tb === 'bigint')) {
    // eslint-disable-next-line eqeqeq -- a number against a bigint: loose equality compares their values
    return (a as number) == (b as number);
  }
  if (a === null || b === null || ta !== 'object' || tb !== 'object') return false;
  const x = a as object;
  const y = b as object;
  if (x instanceof BaseProxy || y instanceof BaseProxy) {
    return (
      x instanceof BaseProxy &&
      y instanceof BaseProxy &&
      x._token.id === y._token.id &&
      addressKey(x._token.address) === addressKey(y._token.address)
    );
  }
  // A cycle being compared already: assume equal, as deep comparisons do.
  const pairs = inProgress.get(x);
  if (pairs?.has(y)) return true;
  if (pairs) pairs.add(y);
  else inProgress.set(x, new Set([y]));
  try {
    return compareObjects(x, y, inProgress);
  } finally {
    inProgress.get(x)?.delete(y);
  }
}

function compareObjects(x: object, y: object, inProgress: Map<object, Set<object>>): boolean {
  if (Array.isArray(x) || Array.isArray(y)) {
    return Array.isArray(x) && Array.isArray(y) && x.length === y.length && x.every((v, i) => equal(v, y[i], inProgress));
  }
  if (x instanceof Map || y instanceof Map) {
    if (!(x instanceof Map && y instanceof Map) || x.size !== y.size) return false;
    for (const [k, v] of x) {
      if (y.has(k)) {
        if (!equal(v, y.get(k), inProgress)) return false;
        continue;
      }
      let found = false;
      for (const [k2, v2] of y) {
        if (equal(k, k2, inProgress) && equal(v, v2, inProgress)) {
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    return true;
  }
  if (x instanceof Set || y instanceof Set) {
    if (!(x instanceof Set && y instanceof Set) || x.size !== y.size) return false;
    for (const v of x) if (!y.has(v) && ![...y].some((w) => equal(v, w, inProgress))) return false;
    return true;
  }
  if (x instanceof Date || y instanceof Date) return x instanceof Date && y instanceof Date && x.getTime() === y.getTime();
  if (isPlainObject(x) && isPlainObject(y)) {
    const kx = Object.keys(x);
    const ky = Object.keys(y);
    if (kx.length !== ky.length) return false;
    const rx = x as Record<string, unknown>;
    const ry = y as Record<string, unknown>;
    return kx.every((k) => Object.hasOwn(ry, k) && equal(rx[k], ry[k], inProgress));
  }
  // Typed arrays, class instances: by value, strictly.
  return isDeepStrictEqual(x, y);
}
