import { describe, expect, it } from '@jest/globals';
import {
  AuthenticationError,
  BufferTooShort,
  EOFError,
  Empty,
  errorClasses,
  ProcessError,
  RemoteError,
  TimeoutError,
  ValueError,
} from '../src/index.js';

describe('error classes', () => {
  it('keep Python hierarchy: TimeoutError, BufferTooShort, AuthenticationError are ProcessErrors', () => {
    expect(new TimeoutError('x')).toBeInstanceOf(ProcessError);
    expect(new AuthenticationError('x')).toBeInstanceOf(ProcessError);
    expect(new BufferTooShort(Buffer.alloc(3))).toBeInstanceOf(ProcessError);
    expect(new Empty()).not.toBeInstanceOf(ProcessError);
    expect(new ValueError('x')).toBeInstanceOf(Error);
  });

  it('have a fixed name and a stable code', () => {
    const e = new AuthenticationError('digest received was wrong');
    expect(e.name).toBe('AuthenticationError');
    expect(e.code).toBe('ERR_MP_AUTHENTICATION');
    expect(String(e)).toBe('AuthenticationError: digest received was wrong');
    expect(new EOFError().code).toBe('ERR_MP_EOF');
    for (const [name, cls] of Object.entries(errorClasses)) {
      const instance = new (cls as unknown as new (...a: unknown[]) => Error & { code: string })(Buffer.alloc(0));
      expect(instance.name).toBe(name);
      expect(instance.code).toMatch(/^ERR_MP_[A-Z_]+$/);
    }
  });

  it('BufferTooShort carries the whole message; RemoteError the remote stack', () => {
    const msg = Buffer.from('hello');
    expect(new BufferTooShort(msg).buffer).toBe(msg);
    const remote = new RemoteError('boom', 'Error: boom\n    at remote');
    expect(remote.remoteStack).toContain('at remote');
  });

  it('accept a cause', () => {
    const cause = new Error('root');
    expect(new TimeoutError('late', { cause }).cause).toBe(cause);
  });
});
