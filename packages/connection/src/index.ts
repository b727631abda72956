export { Connection, flushConnections } from './connection.js';
export type { ConnectionOptions } from './connection.js';
export { Pipe } from './pipe.js';
export type { PipeOptions } from './pipe.js';
export { Listener } from './listener.js';
export type { ListenerOptions } from './listener.js';
export { Client } from './client.js';
export type { ClientOptions } from './client.js';
export { wait } from './wait.js';
export type { WaitObject } from './wait.js';
export {
  deliverChallenge,
  answerChallenge,
  setDefaultAuthkeyProvider,
  defaultAuthkey,
  CHALLENGE,
  WELCOME,
  FAILURE,
} from './auth.js';
export type { Authkey } from './auth.js';
export { addressType, DEFAULT_FAMILY } from './address.js';
export type { Address, InetAddress, Family } from './address.js';
export {
  encodeHeader,
  decodeHeader,
  writeHeader,
  headerSize,
  DEFAULT_MAX_MESSAGE_SIZE,
  SHORT_HEADER_MAX,
} from './framing.js';
export type { HeaderResult } from './framing.js';
export {
  BufferTooShort,
  AuthenticationError,
  EOFError,
  ProtocolError,
  ValueError,
  waitReady,
} from '@mpjs/util';
export type { Waitable } from '@mpjs/util';
