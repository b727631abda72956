import { describe, expect, it } from '@jest/globals';
import { errorClasses, BufferTooShort, RemoteError, TimeoutError, ProcessError } from '@mpjs/util';
import { readFileSync } from 'node:fs';
import { types } from 'node:util';
import { decodeError, defaultCodec, DecodeError, encodeError, jsonCodec, SerializationError } from '../src/index.js';
import { DeepTaskError, makeHiddenError, TaskError } from './fixtures/tasks.js';

function roundTrip<T>(value: T): T {
  return defaultCodec.decode(defaultCodec.encode(value)) as T;
}

describe('built-in error classes', () => {
  const builtins: Array<[string, new (message: string) => Error]> = [
    ['Error', Error],
    ['TypeError', TypeError],
    ['RangeError', RangeError],
    ['ReferenceError', ReferenceError],
    ['SyntaxError', SyntaxError],
    ['EvalError', EvalError],
    ['URIError', URIError],
  ];
  it.each(builtins)('%s keeps class, message and the remote stack', (name, Cls) => {
    const original = new Cls(`a ${name}`);
    const back = roundTrip(original);
    expect(back).toBeInstanceOf(Cls);
    expect(Object.getPrototypeOf(back)).toBe(Cls.prototype);
    expect(back.name).toBe(name);
    expect(back.message).toBe(`a ${name}`);
    expect(back.stack).toBe(original.stack);
    expect(types.isNativeError(back)).toBe(true);
    expect(Object.keys(back)).toEqual([]);
  });

  it('AggregateError keeps its errors', () => {
    const original = new AggregateError([new TypeError('one'), new RangeError('two')], 'both failed');
    const back = roundTrip(original);
    expect(back).toBeInstanceOf(AggregateError);
    expect(back.message).toBe('both failed');
    expect(back.errors).toHaveLength(2);
    expect(back.errors[0]).toBeInstanceOf(TypeError);
    expect((back.errors[1] as Error).message).toBe('two');
    expect(Object.getOwnPropertyDescriptor(back, 'errors')?.enumerable).toBe(false);
  });

  it('cause (an error, plain data or undefined), code and own properties', () => {
    const inner = new RangeError('inner');
    const original = Object.assign(new Error('outer', { cause: inner }), { code: 'E_OUTER', details: { retry: 3, at: new Date(9) } });
    const back = roundTrip(original);
    expect(back.cause).toBeInstanceOf(RangeError);
    expect((back.cause as Error).message).toBe('inner');
    expect(back.code).toBe('E_OUTER');
    expect(back.details).toStrictEqual({ retry: 3, at: new Date(9) });
    expect(Object.getOwnPropertyDescriptor(back, 'cause')?.enumerable).toBe(false);
    expect(roundTrip(new Error('x', { cause: 'text' })).cause).toBe('text');
    const withUndefined = roundTrip(new Error('x', { cause: undefined }));
    expect('cause' in withUndefined).toBe(true);
    expect('cause' in roundTrip(new Error('no cause'))).toBe(false);
  });

  it('an error that is its own cause, or sits in its own properties', () => {
    const original = new Error('loop') as Error & { self?: unknown };
    original.cause = original;
    original.self = { back: original };
    const back = roundTrip(original);
    expect(back.cause).toBe(back);
    expect((back.self as { back: unknown }).back).toBe(back);
  });

  it('an own name and a missing stack', () => {
    const renamed = new Error('x');
    renamed.name = 'CustomName';
    expect(roundTrip(renamed).name).toBe('CustomName');
    const stackless = new Error('no stack');
    delete (stackless as { stack?: string }).stack;
    Object.defineProperty(stackless, 'stack', { value: undefined, configurable: true });
    expect(roundTrip(stackless).message).toBe('no stack');
  });

  it('errors thrown by Node itself (code, errno, syscall, path)', () => {
    let thrown: NodeJS.ErrnoException | undefined;
    try {
      readFileSync('/nonexistent/mpjs-file');
    } catch (error) {
      thrown = error as NodeJS.ErrnoException;
    }
    const back = roundTrip(thrown!);
    expect(back).toBeInstanceOf(Error);
    expect(back.code).toBe('ENOENT');
    expect(back.errno).toBe(thrown!.errno);
    expect(back.syscall).toBe('open');
    expect(back.path).toBe('/nonexistent/mpjs-file');
    expect(back.message).toBe(thrown!.message);
  });

  it('DOMException (an AbortSignal reason)', () => {
    const controller = new AbortController();
    controller.abort();
    const back = roundTrip(controller.signal.reason as Error);
    expect(back.name).toBe('AbortError');
    expect(back).toBeInstanceOf(DOMException);
    expect(back.message).toBe((controller.signal.reason as Error).message);
  });

  it('the same error twice decodes as one error', () => {
    const error = new Error('shared');
    const back = roundTrip([error, { again: error }] as const);
    expect(back[1].again).toBe(back[0]);
  });
});

describe('@mpjs/util error classes', () => {
  const plain = Object.entries(errorClasses).filter(([name]) => name !== 'BufferTooShort' && name !== 'RemoteError');
  it.each(plain)('%s keeps its class and code', (name, Cls) => {
    const original = new (Cls as unknown as new (message: string) => Error & { code: string })(`a ${name}`);
    const back = roundTrip(original);
    expect(back).toBeInstanceOf(Cls);
    expect(back.name).toBe(name);
    expect(back.code).toBe(original.code);
    expect(back.message).toBe(`a ${name}`);
    expect(back.stack).toBe(original.stack);
  });

  it('BufferTooShort keeps its buffer and RemoteError its remote stack', () => {
    const short = roundTrip(new BufferTooShort(Buffer.from('whole message')));
    expect(short).toBeInstanceOf(BufferTooShort);
    expect(short).toBeInstanceOf(ProcessError);
    expect(Buffer.isBuffer(short.buffer)).toBe(true);
    expect(short.buffer.toString()).toBe('whole message');
    const remote = roundTrip(new RemoteError('boom', 'Traceback: remote'));
    expect(remote).toBeInstanceOf(RemoteError);
    expect(remote.remoteStack).toBe('Traceback: remote');
  });

  it('a subclass of an mpjs class that cannot be found arrives as that mpjs class', () => {
    class LocalTimeout extends TimeoutError {}
    const back = roundTrip(new LocalTimeout('late'));
    expect(back).toBeInstanceOf(TimeoutError);
    expect(back.name).toBe('TimeoutError');
    expect(back.code).toBe('ERR_MP_TIMEOUT');
  });

  it('SerializationError and DecodeError travel too', () => {
    expect(roundTrip(new SerializationError('refused'))).toBeInstanceOf(SerializationError);
    expect(roundTrip(new DecodeError('bad bytes')).code).toBe('ERR_MP_DECODE');
  });
});

describe('user error classes', () => {
  it('an exported class comes back as itself, fields and all', () => {
    const original = new TaskError('download failed', 'fetch');
    const back = roundTrip(original);
    expect(back).toBeInstanceOf(TaskError);
    expect(back.name).toBe('TaskError');
    expect(back.code).toBe('ERR_TASK');
    expect(back.task).toBe('fetch');
    expect(back.stack).toBe(original.stack);
    expect(types.isNativeError(back)).toBe(true);
    const deep = roundTrip(new DeepTaskError('deeper', 'x'));
    expect(deep).toBeInstanceOf(DeepTaskError);
    expect(deep).toBeInstanceOf(TaskError);
  });

  it('a class that cannot be found decodes as its nearest known base, name preserved', () => {
    const original = makeHiddenError('hidden');
    const back = roundTrip(original);
    expect(back).toBeInstanceOf(RangeError);
    expect(Object.getPrototypeOf(back)).toBe(RangeError.prototype);
    expect(back.name).toBe('HiddenError');
    expect((back as Error & { code?: string }).code).toBe('ERR_HIDDEN');
    expect(back.stack).toBe(original.stack);
  });

  it('a class defined in a test (not exported) arrives as Error with its name', () => {
    class LocalError extends Error {
      override name = 'LocalError';
    }
    const back = roundTrip(new LocalError('local'));
    expect(Object.getPrototypeOf(back)).toBe(Error.prototype);
    expect(back.name).toBe('LocalError');
    expect(back.message).toBe('local');
  });

  it('the class is rebuilt without running its constructor', () => {
    let constructed = 0;
    class Counting extends Error {
      constructor(message: string) {
        super(message);
        constructed++;
      }
    }
    roundTrip(new Counting('once'));
    expect(constructed).toBe(1);
  });

  it('a property that cannot travel is replaced by a note, and the error still arrives', () => {
    const error = Object.assign(new Error('with closure'), { callback: () => 1, fine: [1, { ok: true }] });
    const back = roundTrip(error);
    expect(back.message).toBe('with closure');
    expect(back.fine).toStrictEqual([1, { ok: true }]);
    expect(back.callback).toMatch(/^\[callback not sent: arrow function "callback" is not exported from .*errors\.test\.ts; export it/);
  });

  it.each([
    ['a few objects', 0],
    ['more objects than a writer searches without an index', 40],
  ])('objects written before a property failed are written again when met later (%s)', (_label, before) => {
    const shared = { s: 1 };
    const error = Object.assign(new Error('partly sent'), {
      many: Array.from({ length: before }, (_, i) => ({ i })),
      broken: { shared, callback: () => 1 },
      later: [shared, shared],
    });
    const back = roundTrip(error);
    expect(back.broken).toMatch(/^\[broken not sent: /);
    expect(back.later[0]).toStrictEqual({ s: 1 });
    expect(back.later[1]).toBe(back.later[0]);
    expect(back.many).toHaveLength(before);
  });
});

describe('encodeError / decodeError', () => {
  it('turn an error into plain data and back, even through JSON', () => {
    const original = new TaskError('json route', 'parse');
    const record = encodeError(original);
    expect(record.classes[0]).toEqual([expect.stringMatching(/^file:\/\/.*fixtures\/tasks\.ts$/), 'TaskError']);
    expect(record.classes.at(-1)).toBe('Error');
    expect(record.props).toStrictEqual({ code: 'ERR_TASK', task: 'parse' });
    const back = decodeError(jsonCodec.decode(jsonCodec.encode(record)) as typeof record);
    expect(back).toBeInstanceOf(TaskError);
    expect((back as TaskError).task).toBe('parse');
    expect(back.stack).toBe(original.stack);
  });

  it('an unknown class falls back to the next candidate', () => {
    const back = decodeError({ classes: [['file:///nowhere/x.ts', 'Gone'], 'mpjs:TimeoutError', 'Error'], name: 'Gone', message: 'm', props: {} });
    expect(back).toBeInstanceOf(TimeoutError);
    expect(back.name).toBe('Gone');
  });
});
