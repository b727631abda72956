/**
 * `node:crypto`, loaded on first use: it is one of the costlier built-in
 * modules to load (a few milliseconds), and most processes that use
 * connections (pool workers, children given a `Pipe`) never authenticate.
 */
import { lazyBuiltin } from '@mpjs/util';

export const crypto = lazyBuiltin<typeof import('node:crypto')>('node:crypto');
