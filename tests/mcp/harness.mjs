// Shared by the MCP test and the bench client: where the pinned SDK is, the `cnv` files a
// session needs (keys and tokens made by `cnv token`), and spawning `cnv mcp serve` behind the
// SDK's StdioClientTransport. Plain Node (>= 18, Debian 12's), no dependency of its own.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// tests/mcp/node_modules, where `npm ci` (scripts/test) puts the SDK pinned by package-lock.json.
export const NODE_MODULES = join(dirname(fileURLToPath(import.meta.url)), 'node_modules');
const SDK_DIR = join(NODE_MODULES, '@modelcontextprotocol', 'sdk');

// The exit code bench/mcp/load.mjs gives when the SDK is missing (its bench case reports the
// case skipped, naming why; the test fails instead).
export const SKIP = 77;

// null when the SDK is installed, else why not.
export function sdkMissing() {
  if (existsSync(join(SDK_DIR, 'package.json'))) return null;
  return `${SDK_DIR} not found: run \`npm ci\` in tests/mcp (scripts/test does)`;
}

// Imports one module of the SDK by its package subpath ('client/index.js'). By file, not by
// name: a script outside tests/mcp (bench/mcp) would not find tests/mcp/node_modules by name.
export function sdk(subpath) {
  return import(pathToFileURL(join(SDK_DIR, 'dist', 'esm', subpath)).href);
}

// Imports a file of another package of tests/mcp/node_modules ('zod/index.js'), by file.
export function nodeModule(path) {
  return import(pathToFileURL(join(NODE_MODULES, path)).href);
}

// The sanitizer settings ctest gives the test, passed on to `cnv` (StdioClientTransport
// otherwise hands a child only HOME, LOGNAME, PATH, SHELL, TERM and USER).
export function childEnv() {
  const env = {};
  for (const k of ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS', 'TSAN_OPTIONS']) {
    if (process.env[k] !== undefined) env[k] = process.env[k];
  }
  return env;
}

// A temporary folder with a root key, an agent key and tokens minted by the root for the
// agent: { dir, root: 'root.pub', agent: 'agent.key', tokens: {name: path} }. tokens maps a
// name to the caveat flags of `cnv token mint` (--allow, --forbid, --effects...).
export function makeIdentity(cnvPath, tokens) {
  const cnv = resolve(cnvPath); // run from inside the folder
  const dir = mkdtempSync(join(tmpdir(), 'cnv-mcp-'));
  try {
    const run = (args) => execFileSync(cnv, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
    run(['token', 'keygen', '--out', 'root']);
    run(['token', 'keygen', '--out', 'agent']);
    const paths = {};
    for (const [name, caveats] of Object.entries(tokens)) {
      run(['token', 'mint', '--key', 'root.key', '--audience', 'agent.pub', ...caveats, '--out', `${name}.tok`]);
      paths[name] = join(dir, `${name}.tok`);
    }
    return { dir, root: join(dir, 'root.pub'), agent: join(dir, 'agent.key'), tokens: paths };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const err = `: ${e.stderr && e.stderr.length ? e.stderr.toString().trim() : e.message}`;
    throw new Error(`cnv token failed${err}`, { cause: e });
  }
}

export function removeIdentity(id) {
  if (id) rmSync(id.dir, { recursive: true, force: true });
}

// The argument list of `cnv mcp serve` for an identity and one of its tokens.
export function serveArgs(id, token, extra = []) {
  return ['mcp', 'serve', '--key', id.agent, '--token', id.tokens[token], '--trust', id.root, ...extra];
}
