/**
 * Checks of what users pass to a pool: each error names the call and the
 * argument, says what it got and what is expected.
 */
import { ValueError } from '@mpjs/util';
import type { TaskFunction } from './worker.js';

/** A short description of a value for messages: `the string "5"`, `an array`, `null`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'number':
    case 'boolean':
      return `the ${typeof value} ${String(value)}`;
    case 'bigint':
      return `the bigint ${String(value)}n`;
    case 'symbol':
      return 'a symbol';
    case 'function':
      return value.name ? `the function ${value.name}` : 'an anonymous function';
  }
  if (Array.isArray(value)) return 'an array';
  if (isAsyncIterable(value)) return 'an async iterable';
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null;
  const name = proto?.constructor?.name;
  return proto === null || proto === Object.prototype || typeof name !== 'string' || name === '' ? 'an object' : `an instance of ${name}`;
}

/** Whether `value` can be spread (`[...value]`): arrays, strings, Sets, generators… */
export function isIterable(value: unknown): value is Iterable<unknown> {
  return value !== null && value !== undefined && typeof (value as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function';
}

/** Whether `value` can be read with `for await`. */
export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && value !== undefined && typeof (value as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';
}

/** The items of the input of `map`/`starmap`, read at once: a sync iterable (a string gives its characters). */
export function listOf(iterable: unknown, fn: string): unknown[] {
  if (isIterable(iterable)) return [...iterable];
  if (isAsyncIterable(iterable)) {
    throw new TypeError(
      `${fn}: the iterable (2nd argument) is an async iterable, but ${fn} reads all of its input at once and takes a sync iterable ` +
        '(an array, a Set, a generator…); use imap() or imapUnordered(), which also take async iterables',
    );
  }
  throw new TypeError(`${fn}: the iterable (2nd argument) must be an iterable such as an array, a Set or a generator, got ${describeValue(iterable)}`);
}

/** Arguments of `apply` or of the initializer: undefined/null for none, else an iterable (an array, usually). */
export function argsOf(args: unknown, fn: string, what: string): unknown[] {
  if (args === undefined || args === null) return [];
  if (isIterable(args)) return [...args];
  throw new TypeError(`${fn}: ${what} must be an array of arguments (or another iterable), got ${describeValue(args)}`);
}

/** The argument lists of `starmap`: each item is spread into the call, as Python's `f(*item)` (a string into its characters). */
export function argumentLists(items: unknown[], fn: string): unknown[][] {
  return items.map((item, i) => {
    if (!isIterable(item)) {
      throw new TypeError(`${fn}: item ${i} of the iterable must be an iterable of arguments such as [1, 2], got ${describeValue(item)}`);
    }
    return [...item];
  });
}

/** The input of `imap`: a sync or async iterable (a string gives its characters). */
export type Input = { async: false; iterator: Iterator<unknown> } | { async: true; iterator: AsyncIterator<unknown> };

/** Opens the input of `imap`/`imapUnordered`. */
export function inputOf(iterable: unknown, fn: string): Input {
  if (isAsyncIterable(iterable)) return { async: true, iterator: iterable[Symbol.asyncIterator]() };
  if (isIterable(iterable)) return { async: false, iterator: iterable[Symbol.iterator]() };
  throw new TypeError(
    `${fn}: the iterable (2nd argument) must be an iterable (an array, a Set, a generator…) or an async iterable, got ${describeValue(iterable)}`,
  );
}

export function checkFunction(fn: unknown, what: string): asserts fn is TaskFunction {
  if (typeof fn !== 'function') throw new TypeError(`${what} must be a function exported from a module, got ${describeValue(fn)}`);
}

export function checkChunksize(chunksize: unknown): asserts chunksize is number {
  if (typeof chunksize !== 'number') throw new TypeError(`chunksize must be an integer of 1 or more, got ${describeValue(chunksize)}`);
  if (!Number.isInteger(chunksize) || chunksize < 1) {
    throw new ValueError(`chunksize must be an integer of 1 or more, not ${String(chunksize)}`);
  }
}

/** A count option (`processes`, `maxtasksperchild`): null when not given, else an integer of 1 or more. */
export function countOption(value: unknown, fn: string, name: string, what: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number') throw new TypeError(`${fn}: ${name} must be a number (${what}) or null, got ${describeValue(value)}`);
  return value;
}

/**
 * The options of a pool's constructor: a number of processes, undefined or
 * null (the defaults), or a plain object whose keys are among `names`.
 */
export function poolOptions<T extends object>(options: unknown, fn: string, names: readonly string[]): T {
  if (options === undefined || options === null) return {} as T;
  if (typeof options === 'number') return { processes: options } as T;
  const proto: unknown = typeof options === 'object' && !Array.isArray(options) ? Object.getPrototypeOf(options) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError(
      `${fn} takes a number of processes or an options object such as { processes: 4 }, got ${describeValue(options)}` +
        (typeof options === 'string' && options.trim() !== '' && !Number.isNaN(Number(options)) ? ` (a number: ${fn.replace('()', `(${Number(options)})`)})` : ''),
    );
  }
  const unknown = Object.keys(options).filter((key) => !names.includes(key));
  if (unknown.length > 0) {
    const known = `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
    throw new TypeError(`${fn}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => JSON.stringify(key)).join(', ')}; the options are ${known}`);
  }
  return options as T;
}
