// Loads the golden vectors (contracts/vectors/golden-{sm,intl}.json) and the Node build of the
// WASM verifier (verifier-wasm/pkg/node, made by scripts/build-wasm.sh).
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');
export const SUITES = ['sm', 'intl'];

export function loadGolden(suite) {
  const file = path.join(repoRoot, 'contracts/vectors', `golden-${suite}.json`);
  return JSON.parse(readFileSync(file, 'utf8'));
}

const pkgNode = path.join(repoRoot, 'verifier-wasm/pkg/node/lichen_verifier_wasm.js');

/** The wasm-bindgen `--target nodejs` module (CommonJS; instantiates the .wasm on load). */
export function loadVerifier() {
  if (!existsSync(pkgNode)) {
    throw new Error(`${pkgNode} is missing: run ./scripts/build-wasm.sh first`);
  }
  return createRequire(import.meta.url)(pkgNode);
}

export function unhex(text) {
  if (typeof text !== 'string' || text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new Error(`not hex: ${text}`);
  }
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

export function hex(bytes) {
  return Buffer.from(bytes).toString('hex');
}

/** A golden case's document as bytes, or undefined (the JSON has null). */
export function documentOf(c) {
  return c.document == null ? undefined : unhex(c.document);
}
