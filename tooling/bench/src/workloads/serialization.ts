/**
 * The codec: encode + decode of the messages mpjs sends most (a small command
 * object, a batch of 1,000 small records, a 1 MiB Buffer), with the default
 * codec (MessagePack, identity-preserving) side by side with CPython's
 * `pickle.dumps`/`pickle.loads` of the same data, and with `JSON` and
 * `v8.serialize` as other Node contenders.
 *
 * Every figure is one full round trip (bytes out, value back), the best of
 * five runs after a warm-up.
 */
import { deserialize, serialize } from 'node:v8';
import { defaultCodec } from '@mpjs/serialization';
import { bestOf, nsPerOpSync, type Workload } from '../harness.js';

const small = { id: 1, op: 'put', args: [1, 'x', true] };
const records = Array.from({ length: 1000 }, (_, i) => ({ id: i, name: `item-${i}`, price: i * 1.25, tags: ['a', 'b'], active: i % 2 === 0 }));
const mebibyte = Buffer.alloc(1 << 20, 0x5a);

const viaCodec = (value: unknown) => (): unknown => defaultCodec.decode(defaultCodec.encode(value));
const viaJson = (value: unknown) => (): unknown => JSON.parse(JSON.stringify(value)) as unknown;
const viaV8 = (value: unknown) => (): unknown => deserialize(serialize(value)) as unknown;

/** Best-of-five ns per call, after a warm-up of a tenth of `iterations`. */
function measureNs(iterations: number, fn: () => unknown): Promise<number> {
  nsPerOpSync(Math.max(1, Math.floor(iterations / 10)), fn);
  return bestOf(5, () => nsPerOpSync(iterations, fn));
}

const toUs = (ns: number): number => ns / 1000;
/** MB/s (10^6 bytes per second) for a round trip of `bytes` taking `ns`. */
const toMBps = (bytes: number, ns: number): number => bytes / 1e6 / (ns / 1e9);

function python(setup: string, unit: 'ns' | 'us' | 'MBps', iterations: number): string {
  const convert = unit === 'ns' ? 'best' : unit === 'us' ? 'best / 1000' : '(len(value) / 1e6) / (best / 1e9)';
  return `
import pickle, time
${setup}
def run(n):
    dumps, loads, proto = pickle.dumps, pickle.loads, pickle.HIGHEST_PROTOCOL
    start = time.perf_counter_ns()
    for _ in range(n):
        loads(dumps(value, proto))
    return (time.perf_counter_ns() - start) / n
run(max(1, ${iterations} // 10))
best = min(run(${iterations}) for _ in range(5))
print(${convert})
`;
}

const workloads: Workload[] = [
  {
    group: 'serialization',
    name: 'encode+decode small object { id, op, args }',
    unit: 'ns',
    lowerIsBetter: true,
    node: () => measureNs(200_000, viaCodec(small)),
    python: python("value = {'id': 1, 'op': 'put', 'args': [1, 'x', True]}", 'ns', 200_000),
    others: {
      JSON: () => measureNs(200_000, viaJson(small)),
      v8: () => measureNs(200_000, viaV8(small)),
    },
  },
  {
    group: 'serialization',
    name: 'encode+decode 1,000 small records',
    unit: 'µs',
    lowerIsBetter: true,
    node: async () => toUs(await measureNs(500, viaCodec(records))),
    python: python(
      "value = [{'id': i, 'name': f'item-{i}', 'price': i * 1.25, 'tags': ['a', 'b'], 'active': i % 2 == 0} for i in range(1000)]",
      'us',
      500,
    ),
    others: {
      JSON: async () => toUs(await measureNs(500, viaJson(records))),
      v8: async () => toUs(await measureNs(500, viaV8(records))),
    },
  },
  {
    group: 'serialization',
    name: 'encode+decode 1 MiB Buffer',
    unit: 'MB/s',
    lowerIsBetter: false,
    node: async () => toMBps(mebibyte.length, await measureNs(300, viaCodec(mebibyte))),
    python: python('value = bytes([0x5a]) * (1 << 20)', 'MBps', 300),
    others: {
      // JSON turns a Buffer into { type, data: [...] }: a fair round trip needs base64.
      'JSON (base64)': async () =>
        toMBps(mebibyte.length, await measureNs(20, () => Buffer.from(JSON.parse(JSON.stringify(mebibyte.toString('base64'))) as string, 'base64'))),
      v8: async () => toMBps(mebibyte.length, await measureNs(300, viaV8(mebibyte))),
    },
  },
];

export default workloads;
