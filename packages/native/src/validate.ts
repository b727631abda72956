/**
 * Argument checks shared by the wrappers: each error names the function and
 * the argument, says what was expected and what was given.
 */
import { types } from 'node:util';

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object';
  }
  return typeof value;
}

/** Checks that `value` is an integer in [min, max]. */
export function checkInteger(fn: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${fn}: "${name}" must be a number, got ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${fn}: "${name}" must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** Largest file descriptor number the kernel can hand out. */
const MAX_FD = 2 ** 31 - 1;

/** Checks a file descriptor number (not whether it is open: the system call reports EBADF). */
export function checkFd(fn: string, name: string, value: unknown): number {
  if (typeof value !== 'number') {
    throw new TypeError(`${fn}: "${name}" must be a file descriptor (a number), got ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < 0 || value > MAX_FD) {
    throw new RangeError(`${fn}: "${name}" must be a file descriptor, an integer from 0 to ${MAX_FD}, got ${value}`);
  }
  return value;
}

/** Checks an optional AbortSignal. */
export function checkSignal(fn: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as AbortSignal).aborted !== 'boolean' ||
    typeof (value as AbortSignal).addEventListener !== 'function'
  ) {
    throw new TypeError(`${fn}: "signal" must be an AbortSignal, got ${describe(value)}`);
  }
  return value as AbortSignal;
}

/** Checks an optional options object. */
export function checkOptions<T extends object>(fn: string, value: unknown): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object') {
    throw new TypeError(`${fn}: "options" must be an object, got ${describe(value)}`);
  }
  return value as Partial<T>;
}

/** Checks an Int32Array over a SharedArrayBuffer and returns its buffer. */
export function checkSharedInt32Array(fn: string, name: string, value: unknown): SharedArrayBuffer {
  if (!types.isInt32Array(value)) {
    throw new TypeError(`${fn}: "${name}" must be an Int32Array over a SharedArrayBuffer, got ${describe(value)}`);
  }
  const buffer: unknown = value.buffer;
  if (!types.isSharedArrayBuffer(buffer)) {
    throw new TypeError(
      `${fn}: "${name}" must be an Int32Array over a SharedArrayBuffer (shared memory), but its buffer is ` +
        `${describe(buffer)}; futexes only work on memory that others can see`,
    );
  }
  return buffer;
}
