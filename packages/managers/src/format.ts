/**
 * Python-like `repr()` of values held by the server, so that `toString()` of a
 * list or dict proxy reads like the spec's output (`{1: '1', '2': 2}`).
 */
import { inspect } from 'node:util';

const kRepr = Symbol.for('mpjs.managers.repr');

/** An object that describes itself for {@link formatValue}. */
export interface Representable {
  [kRepr](): string;
}

/** The symbol a value implements to give its own representation. */
export const reprSymbol: typeof kRepr = kRepr;

/** A Python-style representation of `value` (strings quoted, containers expanded). */
export function formatValue(value: unknown, seen: Set<object> = new Set()): string {
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  if (typeof (value as Partial<Representable>)[kRepr] === 'function') return (value as Representable)[kRepr]();
  if (seen.has(value)) return Array.isArray(value) ? '[...]' : '{...}';
  seen.add(value);
  try {
    if (Array.isArray(value)) return `[${value.map((v) => formatValue(v, seen)).join(', ')}]`;
    if (value instanceof Map) {
      return `{${[...value].map(([k, v]) => `${formatValue(k, seen)}: ${formatValue(v, seen)}`).join(', ')}}`;
    }
    if (value instanceof Set) return `{${[...value].map((v) => formatValue(v, seen)).join(', ')}}`;
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto === Object.prototype || proto === null) {
      return `{${Object.entries(value).map(([k, v]) => `${formatValue(k, seen)}: ${formatValue(v, seen)}`).join(', ')}}`;
    }
    return inspect(value, { depth: 2 });
  } finally {
    seen.delete(value);
  }
}
