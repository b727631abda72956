/**
 * The HMAC challenge/response of `multiprocessing.connection`, as CPython 3.12+
 * runs it: the challenger sends `#CHALLENGE#{sha256}` + 40 random bytes, the
 * responder answers `{sha256}` + HMAC-SHA256 over that whole message, and the
 * challenger replies `#WELCOME#` or `#FAILURE#`. Legacy peers (CPython ≤ 3.11)
 * are understood both ways: a bare 16-byte HMAC-MD5 reply is accepted, and a
 * 20-byte legacy challenge is answered with one.
 */
import { AuthenticationError, randomBytes } from '@mpjs/util';
import { kCork, kHasInput, kUncork, type Connection } from './connection.js';
import { crypto } from './crypto.js';

/** Prefix of a challenge message. */
export const CHALLENGE = Buffer.from('#CHALLENGE#');
/** Reply to a correct response. */
export const WELCOME = Buffer.from('#WELCOME#');
/** Reply to a wrong response. */
export const FAILURE = Buffer.from('#FAILURE#');
/** Random bytes in a CPython 3.12+ challenge. */
export const MESSAGE_LENGTH = 40;
/** Every handshake message is read with this maximum length, as CPython does. */
export const MAX_HANDSHAKE_MESSAGE = 256;
/** Random bytes in a CPython ≤ 3.11 challenge. */
const LEGACY_MESSAGE_LENGTH = 20;
/** Lengths CPython takes as legacy (no `{digest}` prefix, HMAC-MD5): a 16-byte MAC or a 20-byte challenge. */
const LEGACY_MAC_LENGTHS = new Set([16, 20]);
/** Digest offered in our challenges. */
const DEFAULT_DIGEST = 'sha256';
const DIGEST_PREFIX = Buffer.from(`{${DEFAULT_DIGEST}}`);
/** Digest names CPython accepts, and Node's names for them. */
const ALLOWED_DIGESTS: ReadonlyMap<string, string> = new Map([
  ['md5', 'md5'],
  ['sha256', 'sha256'],
  ['sha384', 'sha384'],
  ['sha3_256', 'sha3-256'],
  ['sha3_384', 'sha3-384'],
]);

/** Random bytes for challenges, drawn in blocks: one CSPRNG call serves many handshakes. */
const randomPool = Buffer.alloc(4096);
let randomOffset = randomPool.length;
function randomChallenge(size: number): Buffer {
  if (randomOffset + size > randomPool.length) {
    crypto().randomFillSync(randomPool);
    randomOffset = 0;
  }
  const bytes = Buffer.from(randomPool.subarray(randomOffset, randomOffset + size));
  // Never hand out the same bytes twice.
  randomPool.fill(0, randomOffset, randomOffset + size);
  randomOffset += size;
  return bytes;
}

/** A key as accepted by the handshake: bytes, or a string taken as UTF-8. */
export type Authkey = Uint8Array | string;

let authkeyProvider: (() => Uint8Array) | undefined;
let fallbackAuthkey: Buffer | undefined;

/**
 * Global slot where `@mpjs/process` keeps the current process's authkey
 * (`currentProcess().authkey`), read without importing that package.
 */
const AUTHKEY_SLOT = Symbol.for('mpjs.authkey');

/**
 * Overrides where the default authkey comes from (used when authentication is
 * wanted and no key is given). Without a provider, the key of the current
 * process as `@mpjs/process` publishes it is used, or else a random 32-byte
 * key made once per process. Pass `undefined` to remove the override.
 */
export function setDefaultAuthkeyProvider(provider: (() => Uint8Array) | undefined): void {
  authkeyProvider = provider;
}

/** The current process's authentication key (see {@link setDefaultAuthkeyProvider}). */
export function defaultAuthkey(): Buffer {
  if (authkeyProvider) return toKey(authkeyProvider());
  const published = (globalThis as { [AUTHKEY_SLOT]?: unknown })[AUTHKEY_SLOT];
  if (published instanceof Uint8Array) return toKey(published);
  fallbackAuthkey ??= randomBytes(32);
  return fallbackAuthkey;
}

/** Validates a key and returns it as a Buffer. */
export function toKey(authkey: Authkey): Buffer {
  if (typeof authkey === 'string') return Buffer.from(authkey, 'utf8');
  if (authkey instanceof Uint8Array) return Buffer.from(authkey.buffer, authkey.byteOffset, authkey.byteLength);
  throw new TypeError(`authkey must be a Buffer, a Uint8Array or a string, got ${authkey === null ? 'null' : typeof authkey}`);
}

let available: ReadonlySet<string> | undefined;
function nodeDigest(name: string): string {
  const node = ALLOWED_DIGESTS.get(name);
  available ??= new Set(crypto().getHashes());
  if (node === undefined || !available.has(node)) {
    throw new AuthenticationError(`unsupported digest ${JSON.stringify(name)}`);
  }
  return node;
}

function hmac(digest: string, key: Buffer, message: Uint8Array): Buffer {
  return crypto().createHmac(nodeDigest(digest), key).update(message).digest();
}

/**
 * CPython's `_get_digest_name_and_payload`: a 16- or 20-byte message is legacy
 * (MD5, no prefix); otherwise `{name}` must prefix it, with name 1–8 characters
 * long and one of the allowed digests.
 */
function splitDigest(message: Buffer): { digest: string; payload: Buffer; legacy: boolean } {
  if (LEGACY_MAC_LENGTHS.has(message.byteLength)) return { digest: 'md5', payload: message, legacy: true };
  if (message.byteLength > 0 && message[0] === 0x7b /* { */) {
    const end = message.indexOf(0x7d /* } */, 1);
    if (end > 0 && end < 10) {
      const name = message.subarray(1, end).toString('latin1');
      if (ALLOWED_DIGESTS.has(name)) return { digest: name, payload: message.subarray(end + 1), legacy: false };
    }
  }
  throw new AuthenticationError(
    `unsupported message length, missing digest prefix, or unsupported digest: ${preview(message)}`,
  );
}

function preview(bytes: Uint8Array): string {
  const shown = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 40));
  return `${shown.toString('hex')}${bytes.byteLength > 40 ? '…' : ''} (${bytes.byteLength} bytes)`;
}

/** Sends a fresh challenge; returns the message whose HMAC the answer must carry. */
function sendChallenge(connection: Connection): Buffer {
  const frame = Buffer.concat([CHALLENGE, DIGEST_PREFIX, randomChallenge(MESSAGE_LENGTH)]);
  connection.sendBytes(frame);
  return frame.subarray(CHALLENGE.byteLength);
}

/**
 * Reads the answer to `message`, checks it, and replies `#WELCOME#` or
 * `#FAILURE#` (then throws). `beforeWelcome` may cork the connection so the
 * welcome travels with what follows; its result is returned.
 */
async function checkAnswer(
  connection: Connection,
  key: Buffer,
  message: Buffer,
  beforeWelcome: () => boolean = () => false,
): Promise<boolean> {
  const response = await connection.recvBytes(MAX_HANDSHAKE_MESSAGE);
  try {
    const { digest, payload } = splitDigest(response);
    const expected = hmac(digest, key, message);
    if (expected.byteLength !== payload.byteLength) {
      throw new AuthenticationError(
        `expected ${JSON.stringify(digest)} of length ${expected.byteLength} got ${payload.byteLength}`,
      );
    }
    if (!crypto().timingSafeEqual(expected, payload)) {
      throw new AuthenticationError('digest received was wrong: the other end does not have the same authkey');
    }
  } catch (error) {
    if (error instanceof AuthenticationError) connection.sendBytes(FAILURE);
    throw error;
  }
  const corked = beforeWelcome();
  connection.sendBytes(WELCOME);
  return corked;
}

/** Reads a challenge and sends its HMAC. */
async function answer(connection: Connection, key: Buffer): Promise<void> {
  respond(connection, key, await connection.recvBytes(MAX_HANDSHAKE_MESSAGE));
}

/** Sends the HMAC of a received challenge frame. */
function respond(connection: Connection, key: Buffer, challenge: Buffer): void {
  if (!challenge.subarray(0, CHALLENGE.byteLength).equals(CHALLENGE)) {
    throw new AuthenticationError(
      `Protocol error, expected challenge: ${preview(challenge)}; is the other end a Listener with an authkey?`,
    );
  }
  const message = challenge.subarray(CHALLENGE.byteLength);
  if (message.byteLength < LEGACY_MESSAGE_LENGTH) {
    throw new AuthenticationError(`challenge too short: ${message.byteLength} bytes`);
  }
  // The MAC covers the whole message, its `{digest}` prefix included.
  const { digest, legacy } = splitDigest(message);
  const mac = hmac(digest, key, message);
  connection.sendBytes(legacy ? mac : Buffer.concat([Buffer.from(`{${digest}}`), mac]));
}

/** Reads the verdict on our answer. */
async function expectWelcome(connection: Connection): Promise<void> {
  const reply = await connection.recvBytes(MAX_HANDSHAKE_MESSAGE);
  if (!reply.equals(WELCOME)) {
    throw new AuthenticationError('digest sent was rejected: the other end does not have the same authkey');
  }
}

/**
 * Python's `deliver_challenge`: sends a random challenge, checks the reply's
 * HMAC (constant-time), and answers `#WELCOME#`, or `#FAILURE#` and throws
 * {@link AuthenticationError}. Without `authkey`, the current process's key is used.
 */
export async function deliverChallenge(connection: Connection, authkey?: Authkey): Promise<void> {
  const key = authkey === undefined ? defaultAuthkey() : toKey(authkey);
  await checkAnswer(connection, key, sendChallenge(connection));
}

/**
 * Python's `answer_challenge`: reads a challenge, replies with its HMAC and
 * expects `#WELCOME#`; otherwise throws {@link AuthenticationError}. Without
 * `authkey`, the current process's key is used.
 */
export async function answerChallenge(connection: Connection, authkey?: Authkey): Promise<void> {
  const key = authkey === undefined ? defaultAuthkey() : toKey(authkey);
  await answer(connection, key);
  await expectWelcome(connection);
}

/**
 * The client's half of the mutual handshake: `answerChallenge` then
 * `deliverChallenge`, with our challenge written together with our answer
 * instead of after the verdict. The listener reads messages in order, so the
 * conversation on the wire is the same with one round trip less; on a
 * `#FAILURE#` the unread challenge is simply dropped with the connection.
 */
export async function clientHandshake(connection: Connection, key: Buffer): Promise<void> {
  let message: Buffer;
  const challenge = await connection.recvBytes(MAX_HANDSHAKE_MESSAGE);
  connection[kCork]();
  try {
    respond(connection, key, challenge);
    message = sendChallenge(connection);
  } catch (error) {
    connection[kUncork]();
    throw error;
  }
  connection[kUncork]();
  await expectWelcome(connection);
  await checkAnswer(connection, key, message);
}

/**
 * The listener's half: `deliverChallenge` then `answerChallenge`. When the
 * client's challenge has already arrived (an mpjs client sends it with its
 * answer), our `#WELCOME#` and our answer go out in one write.
 */
export async function listenerHandshake(connection: Connection, key: Buffer): Promise<void> {
  const message = sendChallenge(connection);
  const corked = await checkAnswer(connection, key, message, () => {
    if (!connection[kHasInput]()) return false;
    connection[kCork]();
    return true;
  });
  try {
    const challenge = await connection.recvBytes(MAX_HANDSHAKE_MESSAGE);
    respond(connection, key, challenge);
  } catch (error) {
    // Still tell the client it was welcome, as CPython would have by now; the error that matters is this one.
    if (corked) {
      try {
        connection[kUncork]();
      } catch {
        // The client is gone too.
      }
    }
    throw error;
  }
  if (corked) connection[kUncork]();
  await expectWelcome(connection);
}
