import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inspectorStats } from '../src/inspector-lookup.js';
import {
  decodeWhenReady,
  defaultCodec,
  DecodeError,
  ExtType,
  functionReference,
  jsonCodec,
  registerModuleExports,
  resolveReference,
  SerializationError,
} from '../src/index.js';
import * as declared from './fixtures/declared.js';
import defaultExport, {
  addOne,
  Counter,
  double,
  getNotExported,
  makeAdder,
  makeLocalArrow,
  makeLocalInstance,
  Point,
  Shape,
  slowDouble,
  TaskError,
  timesFour,
} from './fixtures/tasks.js';

const { encode, decode, decodeAsync } = defaultCodec;
const fixtures = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures');
const tasksUrl = pathToFileURL(join(fixtures, 'tasks.ts')).href;
const lazyUrl = pathToFileURL(join(fixtures, 'lazy.ts')).href;
const plainModuleUrl = pathToFileURL(join(fixtures, 'plain-module.mjs')).href;

function roundTrip<T>(value: T): T {
  return decode(encode(value)) as T;
}

/** An extension value built by hand: type, then a payload of MessagePack values. */
function ext(type: number, ...values: unknown[]): Uint8Array {
  const payload = Buffer.concat(values.map((v) => Buffer.from(encode(v))));
  const header = Buffer.from([0xc9, 0, 0, 0, 0, type]);
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

describe('functionReference', () => {
  it.each([
    ['a function', double, 'double'],
    ['an async function', slowDouble, 'slowDouble'],
    ['an arrow function in an exported const', addOne, 'addOne'],
    ['a function exported under another name', timesFour, 'timesFour'],
    ['the default export', defaultExport, 'default'],
    ['a class', Point, 'Point'],
    ['an error class', TaskError, 'TaskError'],
  ])('finds %s', (_label, fn, name) => {
    expect(functionReference(fn)).toEqual({ module: tasksUrl, name });
  });

  it('functions and classes round-trip as the same objects', () => {
    const back = roundTrip({ double, addOne, Point, defaultExport, list: [timesFour, double] });
    expect(back.double).toBe(double);
    expect(back.addOne).toBe(addOne);
    expect(back.Point).toBe(Point);
    expect(back.defaultExport).toBe(defaultExport);
    expect(back.list[0]).toBe(timesFour);
    expect(back.list[1]).toBe(double);
  });

  it('finds exports of CommonJS modules, including module.exports = function', () => {
    const require = createRequire(import.meta.url);
    const cjs = require('./fixtures/commonjs.cjs') as { add: Function; Thing: new (label: string) => { describe(): string } };
    const greet = require('./fixtures/commonjs-default.cjs') as Function;
    const cjsUrl = pathToFileURL(join(fixtures, 'commonjs.cjs')).href;
    expect(functionReference(cjs.add)).toEqual({ module: cjsUrl, name: 'add' });
    expect(functionReference(greet)).toEqual({ module: pathToFileURL(join(fixtures, 'commonjs-default.cjs')).href, name: 'default' });
    const back = roundTrip({ add: cjs.add, thing: new cjs.Thing('t') });
    expect(back.add).toBe(cjs.add);
    expect(back.thing).toBeInstanceOf(cjs.Thing);
    expect(back.thing.describe()).toBe('thing t');
  });

  it('finds exports of public built-in modules', async () => {
    const path = await import('node:path');
    expect(functionReference(path.join)).toEqual({ module: 'node:path', name: 'join' });
    expect(roundTrip(path.join)).toBe(path.join);
  });
});

describe('refusals', () => {
  const file = join(fixtures, 'tasks.ts');
  it('a function that is not exported', () => {
    expect(() => functionReference(getNotExported())).toThrow(
      new SerializationError(
        `function "notExported" is not exported from ${file}; export it (export function notExported…) so another process can import it`,
      ),
    );
  });

  it('a closure', () => {
    expect(() => encode(makeAdder(2))).toThrow(SerializationError);
    expect(() => encode(makeAdder(2))).toThrow(
      `function "adder" is defined inside another function in ${file} (a closure), so another process cannot import it; move it to the top level of its module and export it (export function adder…)`,
    );
  });

  it('an arrow function stored in a local variable', () => {
    expect(() => encode(makeLocalArrow())).toThrow(/^arrow function "scale" is defined inside another function in .*tasks\.ts \(a closure\).*export const scale = …/);
  });

  it('a class method', () => {
    expect(() => encode({ method: Point.prototype.norm2 })).toThrow(
      `method "norm2" (in ${file}) cannot be sent by reference: only exported top-level functions and classes can; export a top-level function that calls it (export function norm2…) so another process can import it (at value.method)`,
    );
  });

  it('anonymous, bound, built-in and eval-made functions', () => {
    expect(() => encode(() => 1)).toThrow(/^an anonymous arrow function in .*references\.test\.ts cannot be sent by reference; give it a name/);
    expect(() => encode(double.bind(null))).toThrow(/^function "bound double" is a bound function/);
    expect(() => encode(Math.max)).toThrow(/^built-in function "max" cannot be sent by reference/);
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    expect(() => encode(new Function('return 1'))).toThrow(/created by eval, new Function or vm/);
  });

  it('an instance of a class that is not exported', () => {
    expect(() => encode({ args: [makeLocalInstance()] })).toThrow(
      new RegExp(
        '^cannot send an instance of class "LocalClass": class "LocalClass" is not exported from .*tasks\\.ts; export it \\(export class LocalClass…\\).*registerType\\(\\) \\(at value\\.args\\[0\\]\\)$',
      ),
    );
  });

  it('a function is looked up once: later encodes use the cached answer', () => {
    const adder = makeAdder(3);
    expect(() => encode(adder)).toThrow(SerializationError);
    const lookups = inspectorStats.lookups;
    const enables = inspectorStats.debuggerEnables;
    expect(lookups).toBeGreaterThan(0);
    for (let i = 0; i < 100; i++) expect(() => encode(adder)).toThrow(/closure/);
    expect(inspectorStats.lookups).toBe(lookups);
    expect(inspectorStats.debuggerEnables).toBe(enables);
  });

  it('refusals carry the code and the path', () => {
    let caught: unknown;
    try {
      encode({ targets: [double, { fn: makeAdder(1) }] });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SerializationError);
    expect((caught as SerializationError).code).toBe('ERR_MP_SERIALIZATION');
    expect((caught as SerializationError).path).toEqual(['targets', 1, 'fn']);
    expect((caught as Error).message).toMatch(/\(at value\.targets\[1\]\.fn\)$/);
  });
});

describe('registerModuleExports', () => {
  const declaredUrl = pathToFileURL(join(fixtures, 'declared.ts')).href;

  it('declares where a module\'s functions and classes are: no inspector lookup, and they decode back', () => {
    const lookups = inspectorStats.lookups;
    // The query a loader may add to a module URL is not part of the reference.
    registerModuleExports(`${declaredUrl}?loader=1`, declared);
    expect(functionReference(declared.triple)).toEqual({ module: declaredUrl, name: 'triple' });
    expect(functionReference(declared.Box)).toEqual({ module: declaredUrl, name: 'Box' });
    expect(inspectorStats.lookups).toBe(lookups);
    expect(roundTrip(declared.triple)).toBe(declared.triple);
    expect(roundTrip(new declared.Box(7))).toEqual(new declared.Box(7));
  });

  it('a function already located keeps its reference', () => {
    const before = functionReference(double);
    registerModuleExports(declaredUrl, { elsewhere: double });
    expect(functionReference(double)).toEqual(before);
  });

  it('skips bindings that cannot be read yet, and refuses bad arguments', () => {
    const namespace = Object.defineProperty({}, 'pending', {
      enumerable: true,
      get() {
        throw new ReferenceError('Cannot access before initialization');
      },
    });
    expect(() => registerModuleExports(declaredUrl, namespace)).not.toThrow();
    expect(() => registerModuleExports('', declared)).toThrow(TypeError);
    expect(() => registerModuleExports(declaredUrl, null as unknown as object)).toThrow(TypeError);
  });
});

describe('class instances', () => {
  it('keep their prototype and own fields, nested and cyclic', () => {
    const point = new Point(3, 4) as Point & { self?: unknown; tags?: string[] };
    point.self = point;
    point.tags = ['a'];
    const back = roundTrip({ point, list: [point] });
    expect(back.point).toBeInstanceOf(Point);
    expect(back.point.norm2()).toBe(25);
    expect(back.point.self).toBe(back.point);
    expect(back.list[0]).toBe(back.point);
    expect({ ...back.point, self: undefined }).toStrictEqual({ x: 3, y: 4, self: undefined, tags: ['a'] });
  });

  it('are rebuilt without calling the constructor', () => {
    const shape = new Shape(4);
    shape.corners.push({ x: 0, y: 0 });
    const before = Shape.created;
    const back = roundTrip(shape);
    expect(Shape.created).toBe(before);
    expect(back).toBeInstanceOf(Shape);
    expect(back.perimeter(2)).toBe(8);
    expect(back.corners).toStrictEqual([{ x: 0, y: 0 }]);
  });

  it('a class with [reduce]() is sent as what it returns', () => {
    const before = Counter.constructed;
    const counter = new Counter(5);
    counter.history.push(1);
    const back = roundTrip(counter);
    expect(back).toBeInstanceOf(Counter);
    expect(back.count).toBe(5);
    expect(back.secret()).toBe(50);
    expect(back.history).toEqual([]);
    expect(Counter.constructed).toBe(before + 2);
  });
});

describe('resolveReference', () => {
  it('returns the export a reference names', async () => {
    expect(await resolveReference(functionReference(double))).toBe(double);
    const path = await import('node:path');
    expect(await resolveReference({ module: 'node:path', name: 'join' })).toBe(path.join);
  });

  it('fails clearly for a missing export, a non-function, a bad scheme or a missing file', async () => {
    await expect(resolveReference({ module: tasksUrl, name: 'nothingHere' })).rejects.toThrow(
      new DecodeError(`module ${tasksUrl} has no export named "nothingHere"; the sender and the receiver must run the same code`),
    );
    await expect(resolveReference({ module: 'data:text/javascript,export const x = 1', name: 'x' })).rejects.toThrow(/refusing to import/);
    await expect(resolveReference({ module: 'file:///nonexistent/mpjs/x.ts', name: 'x' })).rejects.toThrow(/could not import file:\/\/\/nonexistent/);
    await expect(resolveReference({ module: 'node:os', name: 'EOL' })).rejects.toThrow(/is not a function or class/);
    await expect(resolveReference({ module: 1 } as never)).rejects.toThrow(TypeError);
  });
});

describe('decode vs decodeAsync', () => {
  it('decode() of a module that is not loaded points at decodeAsync(); decodeAsync() imports it', async () => {
    const bytes = ext(ExtType.Function, lazyUrl, 'triple');
    let caught: unknown;
    try {
      decode(bytes);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DecodeError);
    expect((caught as DecodeError).module).toBe(lazyUrl);
    expect((caught as Error).message).toMatch(/not loaded in this process; use decodeAsync\(\)/);
    const triple = (await decodeAsync(bytes)) as (x: number) => number;
    expect(triple(14)).toBe(42);
    // Now the module is known, so the synchronous decode works too.
    expect(decode(bytes)).toBe(triple);
  });

  it('decodeAsync() imports the class of an instance and of an error', async () => {
    const vector = (await decodeAsync(ext(ExtType.Instance, lazyUrl, 'Vector', { x: 2, y: 5 }))) as { sum(): number };
    expect(vector.sum()).toBe(7);
    const error = (await decodeAsync(
      ext(ExtType.Error, { classes: [[lazyUrl, 'LazyError'], 'Error'], name: 'LazyError', message: 'lazy', props: { code: 'ERR_LAZY' } }),
    )) as Error;
    expect(Object.getPrototypeOf(error).constructor.name).toBe('LazyError');
    expect(error.message).toBe('lazy');
  });

  it('an error whose class module is missing still decodes, as its base', async () => {
    const error = (await decodeAsync(
      ext(ExtType.Error, { classes: [['file:///nonexistent/gone.ts', 'GoneError'], 'TypeError'], name: 'GoneError', message: 'm', props: {} }),
    )) as Error;
    expect(error).toBeInstanceOf(TypeError);
    expect(error.name).toBe('GoneError');
  });

  it('decodeWhenReady() returns the value itself when nothing must be imported, else a promise of it', async () => {
    const plain = decodeWhenReady(defaultCodec, encode({ n: [1, 2], fn: addOne }));
    expect(plain).not.toBeInstanceOf(Promise);
    expect(plain).toStrictEqual({ n: [1, 2], fn: addOne });
    // This test file does not import the module, so the first decode imports it.
    const bytes = ext(ExtType.Function, plainModuleUrl, 'square');
    const pending = decodeWhenReady(defaultCodec, bytes);
    expect(pending).toBeInstanceOf(Promise);
    const square = (await pending) as (x: number) => number;
    expect(square(7)).toBe(49);
    expect(decodeWhenReady(defaultCodec, bytes)).toBe(square);
    // Another codec answers as its decodeAsync does; a broken message throws as decode does.
    await expect(decodeWhenReady(jsonCodec, jsonCodec.encode([1]))).resolves.toEqual([1]);
    expect(() => decodeWhenReady(defaultCodec, Uint8Array.from([0xc1]))).toThrow(DecodeError);
  });

  it('decodeAsync() fails clearly when a function module cannot be imported', async () => {
    await expect(decodeAsync(ext(ExtType.Function, 'file:///nonexistent/mpjs/gone.ts', 'f'))).rejects.toThrow(DecodeError);
    await expect(decodeAsync(ext(ExtType.Function, 'https://example.invalid/x.js', 'f'))).rejects.toThrow(/refusing to import/);
  });
});
