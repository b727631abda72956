import { describe, expect, test } from '@jest/globals';
import { runInNewContext } from 'node:vm';
import { otherSideGone } from '../src/channel.js';

describe('otherSideGone', () => {
  test('knows a broken pipe by its code, in the error or its causes', () => {
    const broken = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    expect(otherSideGone(broken)).toBe(true);
    expect(otherSideGone(new Error('cannot send', { cause: new Error('wrapped', { cause: broken }) }))).toBe(true);
    for (const code of ['ECONNRESET', 'ENOTCONN', 'EBADF']) expect(otherSideGone(Object.assign(new Error(code), { code }))).toBe(true);
  });

  test('knows one made in another realm (Node\'s own errors, seen from a vm context)', () => {
    const foreign = runInNewContext('Object.assign(new Error("write EPIPE"), { code: "EPIPE" })') as unknown;
    expect(foreign instanceof Error).toBe(false);
    expect(otherSideGone(foreign)).toBe(true);
    expect(otherSideGone(new Error('cannot send', { cause: foreign }))).toBe(true);
  });

  test('is false for anything else, and stops on a cycle of causes', () => {
    expect(otherSideGone(new Error('cannot encode'))).toBe(false);
    expect(otherSideGone(Object.assign(new Error('too many handles'), { code: 'EINVAL' }))).toBe(false);
    expect(otherSideGone(undefined)).toBe(false);
    expect(otherSideGone('EPIPE')).toBe(false);
    const cycle: Error & { cause?: unknown } = new Error('a');
    cycle.cause = new Error('b', { cause: cycle });
    expect(otherSideGone(cycle)).toBe(false);
  });
});
