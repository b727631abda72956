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

/**
 * Python's `repr()` of a string: single quotes unless the string holds a
 * single quote and no double quote; backslashes, quotes, `\n`, `\r`, `\t`
 * and other unprintable characters escaped.
 */
export function reprString(value: string): string {
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if ((code >= 0x80 && code < 0xa0) || code === 0xad) out += `\\x${code.toString(16)}`;
    else if (code >= 0xd800 && code <= 0xdfff) out += `\\u${code.toString(16)}`;
    else out += ch;
  }
  return out + quote;
}

/** A Python-style representation of `value` (strings quoted, containers expanded). */
export function formatValue(value: unknown, seen: Set<object> = new Set()): string {
  if (typeof value === 'string') return reprString(value);
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
