/**
 * Address formats of `Listener` and `Client` (Python's `address_type` and
 * `arbitrary_address`): a `[host, port]` pair is `'AF_INET'` (IPv4, as in
 * CPython), a string starting with two backslashes is `'AF_PIPE'` (Windows
 * only), any other string is an `'AF_UNIX'` path (a leading `'\0'` makes it a
 * Linux abstract name).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, ValueError } from '@mpjs/util';

/** A TCP address: `[host, port]`. */
export type InetAddress = readonly [host: string, port: number];

/** Any address a Listener binds or a Client connects to. */
export type Address = InetAddress | string;

/** The address families of Python's `multiprocessing.connection`. */
export type Family = 'AF_INET' | 'AF_UNIX' | 'AF_PIPE';

/** The family used when neither an address nor a family is given (Python's `default_family` on POSIX). */
export const DEFAULT_FAMILY: Family = 'AF_UNIX';

const FAMILIES: readonly Family[] = ['AF_INET', 'AF_UNIX', 'AF_PIPE'];

/** Whether `address` is a `[host, port]` pair. */
export function isInetAddress(address: unknown): address is InetAddress {
  return Array.isArray(address) && address.length === 2 && typeof address[0] === 'string' && typeof address[1] === 'number';
}

/** Python's `address_type`: the family an address belongs to. */
export function addressType(address: Address): Family {
  if (isInetAddress(address)) return 'AF_INET';
  if (typeof address === 'string') return address.startsWith('\\\\') ? 'AF_PIPE' : 'AF_UNIX';
  throw new ValueError(
    `address type of ${describe(address)} unrecognized: use ['127.0.0.1', port] for TCP or a socket path string for AF_UNIX`,
  );
}

/** Checks that a family exists and works on this platform. */
export function validateFamily(family: string): asserts family is Family {
  if (!FAMILIES.includes(family as Family)) {
    throw new ValueError(`Family ${JSON.stringify(family)} is not recognized: use 'AF_INET' or 'AF_UNIX'`);
  }
  if (family === 'AF_PIPE' && process.platform !== 'win32') {
    throw new ValueError(`Family AF_PIPE is only available on Windows; use 'AF_UNIX' or 'AF_INET' here`);
  }
  if (family === 'AF_PIPE') {
    throw new ValueError(`Family AF_PIPE is not supported by mpjs yet (Node's pipes lose message boundaries); use 'AF_INET'`);
  }
}

/** Checks that an address matches a family and returns it normalized. */
export function checkAddress(address: Address, family: Family): Address {
  const actual = addressType(address);
  if (actual !== family) {
    throw new ValueError(`address ${describe(address)} is an ${actual} address, but family ${family} was asked for`);
  }
  if (isInetAddress(address)) {
    const [host, port] = address;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new ValueError(`port must be an integer from 0 to 65535, got ${port}`);
    }
    // As in Python, '' is every interface (INADDR_ANY): a Listener binds them all
    // (the spec's remote manager, `('', 50000)`), a Client reaches this machine.
    if (host === '') return ['0.0.0.0', port] as const;
    return [host, port] as const;
  }
  if (address === '' || address === '\0') throw new ValueError('an AF_UNIX address must not be empty');
  return address;
}

/** A fresh AF_UNIX path in a new private directory (mode 0700), and how to remove both. */
export function arbitraryUnixAddress(): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mpjs-'));
  const path = join(dir, `listener-${randomBytes(4).toString('hex')}`);
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An address as it reads in messages. */
export function describe(address: unknown): string {
  if (isInetAddress(address)) return `['${address[0]}', ${address[1]}]`;
  if (typeof address === 'string') return JSON.stringify(address);
  try {
    return JSON.stringify(address) ?? String(address);
  } catch {
    return String(address);
  }
}

/** A dotted IPv4 address, which needs no lookup. */
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** Whether `host` is a dotted IPv4 address (no lookup needed). */
export function isIPv4(host: string): boolean {
  return IPV4.test(host);
}

/**
 * The IPv4 address of `host` (AF_INET is IPv4 in CPython: 'localhost' is
 * 127.0.0.1, never ::1). node:dns is loaded only for a name: most
 * connections are AF_UNIX, and loading it costs every process start-up time.
 */
export async function toIPv4(host: string): Promise<string> {
  if (IPV4.test(host)) return host;
  const { lookup } = await import('node:dns/promises');
  try {
    return (await lookup(host, { family: 4 })).address;
  } catch (error) {
    throw new ValueError(`cannot resolve host ${JSON.stringify(host)} to an IPv4 address: ${(error as Error).message}`, { cause: error });
  }
}
