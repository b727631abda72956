/**
 * The install a user gets: tooling/scripts/check-native-install.mjs packs
 * @mpjs/native and @mpjs/util and installs them with npm into fresh projects,
 * once with the prebuilt binary for this Node.js (nothing is compiled, no
 * compiler or node-gyp is on hand) and once without it (the install compiles
 * the addon with npm's node-gyp). Both must load the addon.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../../tooling/scripts/check-native-install.mjs', import.meta.url));

describe('installing the packed @mpjs/native with npm', () => {
  it('uses the prebuilt binary when it matches and compiles from source when none does', () => {
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const summary = r.stdout.split('\n').filter((l) => /^(ok|FAIL) /.test(l));
    expect({ status: r.status, failed: summary.filter((l) => l.startsWith('FAIL')), stderr: r.stderr }).toEqual({ status: 0, failed: [], stderr: '' });
    expect(summary).toHaveLength(10);
  }, 180_000);
});
