#!/usr/bin/env node
// Installs tests/tools/node_modules with `npm ci` when it is missing or older than package-lock.json.
// Test projects build in parallel, so one build installs while the others wait on a lock directory
// (mkdir is atomic on every platform) and then find the tools current.

import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const tools = dirname(fileURLToPath(import.meta.url));
const lockFile = join(tools, 'package-lock.json');
const installed = join(tools, 'node_modules', '.package-lock.json'); // npm ci writes it last
const lock = join(tools, '.npm-ci.lock');
const staleLock = 10 * 60 * 1000;

const mtime = (path) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
};
const current = () => mtime(installed) >= mtime(lockFile);
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

if (current()) process.exit(0);

for (;;) {
  try {
    mkdirSync(lock);
    break;
  } catch (e) {
    if (e.code !== 'EEXIST') throw e;
    const age = Date.now() - mtime(lock);
    if (age > staleLock) {
      rmSync(lock, { recursive: true, force: true }); // left behind by a killed build
    } else {
      sleep(500);
    }
  }
}

let status = 0;
try {
  if (!current()) {
    process.stdout.write(`ensure-tools: npm ci in ${tools}\n`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: tools,
      stdio: 'inherit',
      shell: process.platform === 'win32',
    });
    status = result.status ?? 1;
  }
} finally {
  rmSync(lock, { recursive: true, force: true });
}
process.exit(status);
