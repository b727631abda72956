/**
 * Errors cross processes with their class, message, stack (the remote one is
 * kept as `stack`), `cause`, `errors` (AggregateError) and own enumerable
 * properties (`code`, `errno`, fields of user classes).
 *
 * The class travels as a list of candidates, most derived first: built-in
 * names (`'TypeError'`), mpjs classes (`'mpjs:TimeoutError'`) and exported user
 * classes (`[module, name]`). The receiver takes the first it can find, so an
 * error of an unknown class arrives as its nearest known base, `name` intact.
 * It is rebuilt without running the class's constructor.
 */
import { errorClasses } from '@mpjs/util';
import { DecodeError, SerializationError } from './errors.js';
import { resolveLoadedReference, tryFunctionReference } from './references.js';

/** One class candidate: a built-in name, `'mpjs:Name'`, or `[module, exportName]`. */
export type ErrorClassCandidate = string | [module: string, name: string];

/** An error as plain data (what {@link encodeError} returns and {@link decodeError} takes). */
export interface ErrorRecord {
  /** Class candidates, most derived first; the last one is always a built-in. */
  classes: ErrorClassCandidate[];
  name: string;
  message: string;
  stack?: string;
  /** Present when the error had its own `cause`. */
  cause?: unknown;
  /** AggregateError's `errors`. */
  errors?: unknown[];
  /** Own enumerable properties (`code`, `errno`, user fields…). */
  props: Record<string, unknown>;
}

/** What the writer needs to encode an error (property values are read from the error itself). */
export interface ErrorFields {
  classes: ErrorClassCandidate[];
  name: string;
  message: string;
  stack: string | undefined;
  hasCause: boolean;
  cause: unknown;
  errors: unknown[] | undefined;
  /** Keys of the own enumerable properties to send. */
  props: string[];
}

const builtins: Record<string, new (...args: never[]) => Error> = {
  Error,
  TypeError,
  RangeError,
  ReferenceError,
  SyntaxError,
  EvalError,
  URIError,
  AggregateError,
};
if (typeof DOMException === 'function') builtins.DOMException = DOMException as unknown as new (...args: never[]) => Error;

const mpjsClasses: Record<string, new (...args: never[]) => Error> = { ...errorClasses, SerializationError, DecodeError };
const mpjsNames = new Map<Function, string>(Object.entries(mpjsClasses).map(([name, cls]) => [cls, name]));
/** Keys handled apart from the other own properties. */
const special = new Set(['stack', 'message', 'cause', 'errors']);

function isNative(fn: Function): boolean {
  try {
    return /\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(fn));
  } catch {
    return false;
  }
}

function builtinName(ctor: Function): string | undefined {
  const name = ctor.name;
  const local = Object.prototype.hasOwnProperty.call(builtins, name) ? builtins[name] : undefined;
  if (local === undefined) return undefined;
  if (local === ctor) return name;
  // The same built-in of another realm (jest's vm contexts).
  if (name !== 'DOMException' && isNative(ctor)) return name;
  return undefined;
}

function mpjsName(ctor: Function): string | undefined {
  const known = mpjsNames.get(ctor);
  if (known) return known;
  // Another copy of @mpjs/util (another realm, another install): same name, same prototype name, same code.
  const name = ctor.name;
  const local = mpjsClasses[name];
  if (!local) return undefined;
  const proto = ctor.prototype as { name?: unknown } | undefined;
  if (proto && Object.prototype.hasOwnProperty.call(proto, 'name') && proto.name === name) return name;
  return undefined;
}

/** Class candidates of `error`, most derived first, ending with a built-in. */
export function errorClassCandidates(error: object): ErrorClassCandidate[] {
  const out: ErrorClassCandidate[] = [];
  let depth = 0;
  for (let proto = Object.getPrototypeOf(error) as object | null; proto !== null && depth < 16; proto = Object.getPrototypeOf(proto) as object | null, depth++) {
    const ctor = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value as unknown;
    if (typeof ctor !== 'function') continue;
    const builtin = builtinName(ctor);
    if (builtin) {
      out.push(builtin);
      return out;
    }
    const mpjs = mpjsName(ctor);
    if (mpjs) {
      out.push(`mpjs:${mpjs}`);
      continue;
    }
    const ref = tryFunctionReference(ctor);
    if (ref) out.push([ref.module, ref.name]);
  }
  out.push('Error');
  return out;
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

/** Reads what travels of an error, without touching getters that could throw. */
export function encodeErrorFields(error: Error): ErrorFields {
  const own = (key: string): PropertyDescriptor | undefined => {
    try {
      return Object.getOwnPropertyDescriptor(error, key);
    } catch {
      return undefined;
    }
  };
  let name: string;
  let message: string;
  let stack: string | undefined;
  try {
    name = stringOr(error.name, 'Error');
  } catch {
    name = 'Error';
  }
  try {
    message = stringOr(error.message, String(error.message ?? ''));
  } catch {
    message = '';
  }
  try {
    stack = typeof error.stack === 'string' ? error.stack : undefined;
  } catch {
    stack = undefined;
  }
  const causeDesc = own('cause');
  const errorsDesc = own('errors');
  const errors = errorsDesc && 'value' in errorsDesc && Array.isArray(errorsDesc.value) ? (errorsDesc.value as unknown[]) : undefined;
  let props: string[];
  try {
    props = Object.keys(error).filter((k) => !special.has(k));
  } catch {
    props = [];
  }
  return {
    classes: errorClassCandidates(error),
    name,
    message,
    stack,
    hasCause: causeDesc !== undefined,
    cause: causeDesc && 'value' in causeDesc ? causeDesc.value : undefined,
    errors,
    props,
  };
}

/** The class a candidate names, if this process has it. */
function resolveCandidate(candidate: unknown): Function | undefined {
  if (typeof candidate === 'string') {
    if (candidate.startsWith('mpjs:')) return mpjsClasses[candidate.slice(5)];
    return Object.prototype.hasOwnProperty.call(builtins, candidate) ? builtins[candidate] : undefined;
  }
  if (Array.isArray(candidate) && typeof candidate[0] === 'string' && typeof candidate[1] === 'string') {
    let cls: Function | undefined;
    try {
      cls = resolveLoadedReference(candidate[0], candidate[1]);
    } catch {
      return undefined;
    }
    if (typeof cls === 'function' && typeof cls.prototype === 'object' && cls.prototype instanceof Error) return cls;
  }
  return undefined;
}

/** `[module, name]` class candidates (so `decodeAsync` can import their modules first). */
export function candidateReferences(classes: unknown): Array<[string, string]> {
  if (!Array.isArray(classes)) return [];
  const out: Array<[string, string]> = [];
  for (const c of classes) if (Array.isArray(c) && typeof c[0] === 'string' && typeof c[1] === 'string') out.push([c[0], c[1]]);
  return out;
}

/** The `name` a prototype chain gives its instances, read without running a getter. */
function inheritedName(proto: object | null): unknown {
  for (let p = proto, depth = 0; p !== null && depth < 32; p = Object.getPrototypeOf(p) as object | null, depth++) {
    const desc = Object.getOwnPropertyDescriptor(p, 'name');
    if (desc) return 'value' in desc ? desc.value : undefined;
  }
  return undefined;
}

/** Builds an error without capturing a stack trace here: the sender's stack replaces it anyway. */
function withoutStackCapture<T>(build: () => T): T {
  const limit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 0;
  } catch {
    return build();
  }
  try {
    return build();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function define(target: object, key: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable });
}

/**
 * Builds an error of the first class candidate this process can find, without
 * running its constructor: a real error object (V8's own kind, so
 * `util.types.isNativeError` holds) with that class's prototype.
 */
export function createError(classes: unknown, name: string, message: string, stack: string | undefined): Error {
  let cls: Function = Error;
  if (Array.isArray(classes)) {
    for (const c of classes) {
      const found = resolveCandidate(c);
      if (found) {
        cls = found;
        break;
      }
    }
  }
  const error = withoutStackCapture(() => {
    if (cls === builtins.DOMException) {
      // DOMException keeps name and message in internal slots its getters read.
      return new (DOMException as unknown as new (m: string, n: string) => Error)(message, name);
    }
    const aggregate = cls === AggregateError || (cls.prototype as object) instanceof AggregateError;
    const made = aggregate ? (Reflect.construct(AggregateError, [[], message], cls) as Error) : (Reflect.construct(Error, [message], cls) as Error);
    if (aggregate) delete (made as { errors?: unknown }).errors;
    if (inheritedName(cls.prototype as object) !== name) define(made, 'name', name, false);
    return made;
  });
  if (stack !== undefined) define(error, 'stack', stack, false);
  else delete (error as { stack?: string }).stack;
  return error;
}

/** Sets the parts of a decoded error that may refer back to it. */
export function setErrorCause(error: Error, cause: unknown): void {
  define(error, 'cause', cause, false);
}

/** Sets AggregateError's `errors`. */
export function setErrorErrors(error: Error, errors: unknown): void {
  define(error, 'errors', errors, false);
}

/** Sets one own enumerable property of a decoded error (never through a setter). */
export function setErrorProp(error: Error, key: string, value: unknown): void {
  define(error, key, value, true);
}

/**
 * An error as plain data: class candidates, name, message, stack, cause,
 * AggregateError's errors and own enumerable properties. Useful with codecs
 * that carry plain data only (JSON); the default codec sends errors by itself.
 */
export function encodeError(error: Error): ErrorRecord {
  if (error === null || typeof error !== 'object') throw new TypeError('encodeError() expects an error object');
  const fields = encodeErrorFields(error);
  const record: ErrorRecord = { classes: fields.classes, name: fields.name, message: fields.message, props: {} };
  if (fields.stack !== undefined) record.stack = fields.stack;
  if (fields.hasCause) record.cause = fields.cause;
  if (fields.errors !== undefined) record.errors = fields.errors;
  for (const key of fields.props) record.props[key] = (error as unknown as Record<string, unknown>)[key];
  return record;
}

/** Rebuilds an error from {@link encodeError}'s record, as the nearest class this process knows. */
export function decodeError(record: ErrorRecord): Error {
  if (record === null || typeof record !== 'object') throw new TypeError('decodeError() expects a record from encodeError()');
  const error = createError(record.classes, stringOr(record.name, 'Error'), stringOr(record.message, ''), typeof record.stack === 'string' ? record.stack : undefined);
  if ('cause' in record) setErrorCause(error, record.cause);
  if (Array.isArray(record.errors)) setErrorErrors(error, record.errors);
  if (record.props && typeof record.props === 'object') {
    for (const key of Object.keys(record.props)) setErrorProp(error, key, record.props[key]);
  }
  return error;
}
