import { describe, expect, it } from '@jest/globals';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  defaultCodec,
  DecodeError,
  ExtType,
  reduce,
  registerConstructor,
  registerType,
  SerializationError,
  type DecodeContext,
  type EncodeContext,
  type HandleRecord,
} from '../src/index.js';
import { Celsius, double, makeCelsius } from './fixtures/tasks.js';

const fixtures = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures');

const { encode, decode } = defaultCodec;

/** A stand-in for an object that owns an OS handle (a Connection, a Lock…). */
class FileHandle {
  constructor(
    readonly fd: number,
    readonly label: string,
  ) {}
}
class ReadOnlyFileHandle extends FileHandle {}

registerType<FileHandle>({
  name: 'test.FileHandle',
  type: FileHandle,
  encode(value, context) {
    if (!context) throw new SerializationError('a FileHandle needs an EncodeContext to carry its file descriptor');
    const index = context.handles.push({ fd: value.fd, kind: 'file', meta: { label: value.label } }) - 1;
    return { index };
  },
  decode(data, context) {
    const { index } = data as { index: number };
    const record = context?.handles[index];
    if (!record) throw new Error(`handle #${index} did not arrive`);
    return new FileHandle(record.fd, (record.meta as { label: string }).label);
  },
});

describe('registerType and the handle side channel', () => {
  it('collects handles while encoding and hands them back while decoding', () => {
    const path = join(tmpdir(), `mpjs-serialization-${process.pid}.txt`);
    const fd = openSync(path, 'w+');
    try {
      const handle = new FileHandle(fd, 'scratch');
      const encodeContext: EncodeContext = { handles: [] };
      const bytes = encode({ log: handle, again: [handle], other: 1 }, encodeContext);
      // Identity: one handle record for the object sent twice.
      expect(encodeContext.handles).toEqual([{ fd, kind: 'file', meta: { label: 'scratch' } }]);
      // The transport would move the fd; here the receiver's fd is the same number.
      const decodeContext: DecodeContext = { handles: encodeContext.handles.map((h: HandleRecord) => ({ ...h })) };
      const back = decode(bytes, decodeContext) as { log: FileHandle; again: FileHandle[] };
      expect(back.log).toBeInstanceOf(FileHandle);
      expect(back.log.label).toBe('scratch');
      expect(back.again[0]).toBe(back.log);
      writeSync(back.log.fd, 'written through the decoded handle');
      const out = Buffer.alloc(64);
      const n = readSync(fd, out, 0, 64, 0);
      expect(out.toString('utf8', 0, n)).toBe('written through the decoded handle');
    } finally {
      closeSync(fd);
      rmSync(path, { force: true });
    }
  });

  it('subclasses use the spec of their nearest registered class', () => {
    const context: EncodeContext = { handles: [] };
    const back = decode(encode(new ReadOnlyFileHandle(5, 'ro'), context), context) as FileHandle;
    expect(back).toBeInstanceOf(FileHandle);
    expect(back.label).toBe('ro');
  });

  it('a spec may refuse to encode without a context', () => {
    expect(() => encode({ h: new FileHandle(1, 'x') })).toThrow('a FileHandle needs an EncodeContext to carry its file descriptor (at value.h)');
  });

  it('a missing handle on the receiving side is a DecodeError naming the type', () => {
    const bytes = encode(new FileHandle(3, 'x'), { handles: [] });
    expect(() => decode(bytes)).toThrow(DecodeError);
    expect(() => decode(bytes)).toThrow('decoding a value of registered type "test.FileHandle" failed: handle #0 did not arrive');
  });

  it('a type not registered in the receiving process is a DecodeError naming it', () => {
    class Unregistered {
      v = 1;
    }
    registerType<Unregistered>({ name: 'test.Temporary', type: Unregistered, encode: (u) => u.v, decode: () => new Unregistered() });
    const bytes = encode(new Unregistered());
    const registry = (globalThis as Record<symbol, { byName: Map<string, unknown> }>)[Symbol.for('mpjs.serialization.registry')]!;
    registry.byName.delete('test.Temporary');
    expect(() => decode(bytes)).toThrow(/type "test\.Temporary", which is not registered in this process; import the package that registers it/);
  });

  it('registrations live in a global registry, and a later one replaces the decoder', () => {
    class Versioned {
      constructor(readonly version: number) {}
    }
    registerType<Versioned>({ name: 'test.Versioned', type: Versioned, encode: (v) => v.version, decode: (d) => new Versioned(d as number) });
    const bytes = encode(new Versioned(1));
    registerType<Versioned>({ name: 'test.Versioned', type: Versioned, encode: (v) => v.version, decode: (d) => new Versioned((d as number) + 100) });
    expect((decode(bytes) as Versioned).version).toBe(101);
    const registry = (globalThis as Record<symbol, { byName: Map<string, unknown> }>)[Symbol.for('mpjs.serialization.registry')]!;
    expect(registry.byName.has('test.Versioned')).toBe(true);
  });

  it('a spec whose encode throws or returns the value itself is refused clearly', () => {
    class Broken {}
    registerType<Broken>({
      name: 'test.Broken',
      type: Broken,
      encode: () => {
        throw new Error('cannot');
      },
      decode: () => new Broken(),
    });
    expect(() => encode(new Broken())).toThrow('encoding a value of registered type "test.Broken" failed: cannot');
    class Echo {}
    registerType<Echo>({ name: 'test.Echo', type: Echo, encode: (e) => e, decode: () => new Echo() });
    expect(() => encode(new Echo())).toThrow(/returned the value itself/);
  });

  it('a spec may encode with the codec itself (re-entrant encode)', () => {
    class Sealed {
      constructor(readonly inner: unknown) {}
    }
    registerType<Sealed>({
      name: 'test.Sealed',
      type: Sealed,
      encode: (s) => Buffer.from(encode(s.inner)),
      decode: (d) => new Sealed(decode(d as Buffer)),
    });
    const inner = { deep: [1, 2, { three: 3 }], text: 'x'.repeat(1000) };
    const back = decode(encode([new Sealed(inner), 'after'])) as [Sealed, string];
    expect(back[0].inner).toStrictEqual(inner);
    expect(back[1]).toBe('after');
  });

  it('validates the spec', () => {
    expect(() => registerType({ name: '', type: FileHandle, encode: () => 1, decode: () => new FileHandle(0, '') })).toThrow(/non-empty string/);
    expect(() => registerType({ name: 'x', type: 1 as never, encode: () => 1, decode: () => new FileHandle(0, '') })).toThrow(/must be a class/);
    expect(() => registerType({ name: 'x', type: FileHandle, encode: 1 as never, decode: () => new FileHandle(0, '') })).toThrow(/must be functions/);
  });
});

describe('[reduce]()', () => {
  it('is Symbol.for("mpjs.reduce")', () => {
    expect(reduce).toBe(Symbol.for('mpjs.reduce'));
  });

  it('sends [callable, args]; the receiver calls callable(...args)', () => {
    const back = decode(encode({ t: new Celsius(21.5) })) as { t: Celsius };
    expect(back.t).toBeInstanceOf(Celsius);
    expect(back.t.degrees).toBe(21.5);
    expect(makeCelsius(1)).toBeInstanceOf(Celsius);
  });

  it('refuses a malformed result or a callable that is not exported', () => {
    class Bad {
      [reduce](): unknown {
        return 'nope';
      }
    }
    expect(() => encode(new Bad())).toThrow(/must return \[callable, args\[\]\]/);
    class Local {
      [reduce](): unknown {
        return [(x: number) => x, [1]];
      }
    }
    expect(() => encode(new Local())).toThrow(/returned an anonymous function, which a receiver will not call/);
    class Unexported {
      [reduce](): unknown {
        return [registerConstructor((x: number) => x), [1]];
      }
    }
    expect(() => encode(new Unexported())).toThrow(/anonymous arrow function .* cannot be sent by reference/);
    class Throws {
      [reduce](): unknown {
        throw new Error('no');
      }
    }
    expect(() => encode(new Throws())).toThrow('[reduce]() of an instance of Throws threw: no');
  });

  it('only classes that define [reduce]() and declared constructors may be named', () => {
    class Sneaky {
      [reduce](): unknown {
        return [double, [1]];
      }
    }
    expect(() => encode(new Sneaky())).toThrow(
      '[reduce]() of an instance of Sneaky returned "double", which a receiver will not call: return a class that defines [reduce]() (as [Sneaky, args]) or declare the function with registerConstructor()',
    );
    expect(registerConstructor(double)).toBe(double);
  });

  it('a crafted message cannot make the receiver call a function it names', () => {
    // What a sender would write for [reduce]() → [execSync, ['echo pwned']] or [double, [1]].
    for (const [module, name] of [
      ['node:child_process', 'execSync'],
      [pathToFileURL(join(fixtures, 'tasks.ts')).href, 'makeAdder'],
    ]) {
      const payload = Buffer.concat([encode(module), encode(name), encode(false), encode(['echo pwned'])].map((b) => Buffer.from(b)));
      const header = Buffer.from([0xc7, payload.length, ExtType.Reduce]);
      expect(() => decode(Buffer.concat([header, payload]))).toThrow(/^refusing to call "(execSync|makeAdder)" of .* to rebuild a value/);
    }
  });

  it('an object that refers to itself through its reduce arguments is refused at decode', () => {
    const cyclic = new Celsius(1) as Celsius & { [reduce](): unknown };
    cyclic[reduce] = () => [makeCelsius, [cyclic]];
    expect(() => decode(encode(cyclic))).toThrow(/cycle through a registered or reduced object is not supported/);
  });
});
