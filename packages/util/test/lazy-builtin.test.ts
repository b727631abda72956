import { describe, expect, it } from '@jest/globals';
import * as cryptoModule from 'node:crypto';
import { lazyBuiltin } from '../src/index.js';

describe('lazyBuiltin', () => {
  it('loads nothing until called: a missing module fails only then', () => {
    const missing = lazyBuiltin<unknown>('node:no-such-module');
    expect(missing).toThrow(/no-such-module/);
  });

  it('gives the module an import gives, the same object on every call', () => {
    const crypto = lazyBuiltin<typeof import('node:crypto')>('node:crypto');
    expect(crypto().randomBytes).toBe(cryptoModule.randomBytes);
    expect(crypto()).toBe(crypto());
  });
});
