// A `lichen dev` chain for the Node tests: four validators in one process on 127.0.0.1, its
// files (genesis, keys sealed with the password "lichen-dev", node-N.toml) in `<dir>/chain`.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

import { repoRoot } from './golden.mjs';

export const LICHEN = process.env.LICHEN_BIN ?? path.join(repoRoot, 'target/debug/lichen');
/** The dev chain's key-file password (documented: development only). */
export const DEV_PASSWORD = 'lichen-dev';
const BANNER_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 20_000;

/** A TCP port free on 127.0.0.1 just now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * `lichen dev --dir chain` in `dir`; `ready` resolves with the first validator's URL once the
 * banner is printed. `scannerDir`: the scanner page the validators serve (none if absent).
 */
export function startDev(dir, suite, port, { scannerDir } = {}) {
  const args = ['dev', '--dir', 'chain', '--suite', suite, '--port', String(port)];
  if (scannerDir) args.push('--scanner-dir', scannerDir);
  const child = spawn(LICHEN, args, {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lichen dev: no banner\n${out}`)), BANNER_TIMEOUT_MS);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/serving (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`lichen dev exited ${code}\n${out}`));
    });
  });
  return { child, ready };
}

/** Stops `lichen dev` (Ctrl-C, then SIGKILL after a grace period). */
export function stopDev(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGINT');
  });
}
