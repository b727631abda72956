/**
 * `node:crypto`, loaded on first use: it is one of the costlier built-in
 * modules to load (a few milliseconds), and most processes that use
 * connections (pool workers, children given a `Pipe`) never authenticate.
 */
import { createRequire } from 'node:module';

type Crypto = typeof import('node:crypto');

let loaded: Crypto | undefined;

export function crypto(): Crypto {
  return (loaded ??= createRequire(import.meta.url)('node:crypto') as Crypto);
}
