// The load of the mcp_tools_call cases: the official MCP TypeScript SDK's client (Client +
// StdioClientTransport, the SDK pinned by tests/mcp/package-lock.json) keeping a number of
// tools/call requests in flight to an echo tool over stdio, for a fixed time.
//
//   node bench/mcp/load.mjs --cnv PATH [options]     against `cnv mcp serve` (demo.echo); the
//                                                    agent's keys and token are made with
//                                                    `cnv token` in a temporary folder
//   node bench/mcp/load.mjs --sdk-server [options]   against bench/mcp/sdk_echo_server.mjs (the
//                                                    SDK's McpServer with the same tool)
//   options: --inflight N (32)  --duration-ms MS (1000)  --warmup N (calls before timing; 500)
//
// Every call sends its own text and the answer must be that text, or the run fails. Prints one
// line, `calls N seconds S calls_per_second R`, counting only the timed calls
// (the process starts, initialize and the warm-up are not counted). Exits 0, 1 on any failure,
// 77 when the SDK is not installed. The server is stopped and the temporary folder removed on
// every path (SIGTERM included).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SKIP, childEnv, makeIdentity, removeIdentity, sdk, sdkMissing, serveArgs } from '../../tests/mcp/harness.mjs';

function usage(msg) {
  console.error(`load.mjs: ${msg}`);
  process.exit(2);
}

const opts = { inflight: 32, durationMs: 1000, warmup: 500, cnv: null, sdkServer: false };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const num = () => {
    const v = Number(argv[++i]);
    if (!Number.isInteger(v) || v < 0) usage(`${a} needs a whole number`);
    return v;
  };
  if (a === '--cnv') opts.cnv = argv[++i];
  else if (a === '--sdk-server') opts.sdkServer = true;
  else if (a === '--inflight') opts.inflight = num();
  else if (a === '--duration-ms') opts.durationMs = num();
  else if (a === '--warmup') opts.warmup = num();
  else usage(`unknown argument ${a}`);
}
if (!opts.cnv === !opts.sdkServer) usage('give exactly one of --cnv PATH and --sdk-server');
if (opts.inflight < 1) usage('--inflight must be at least 1');

const missing = sdkMissing();
if (missing) {
  console.error(missing);
  process.exit(SKIP);
}
const { Client } = await sdk('client/index.js');
const { StdioClientTransport } = await sdk('client/stdio.js');

let id = null;
let client = null;

async function cleanup() {
  if (client) await client.close().catch(() => {});
  client = null;
  removeIdentity(id);
  id = null;
}
process.once('SIGTERM', () => cleanup().finally(() => process.exit(1)));

// Keeps `inflight` calls going until `until()` says stop; returns the calls answered.
async function drive(inflight, until) {
  let n = 0;
  async function lane(l) {
    for (let k = 0; !until(n); k++) {
      const text = `echo ${l}.${k}`;
      const r = await client.callTool({ name: 'demo_echo', arguments: { text } });
      if (r.isError || r.content.length !== 1 || r.content[0].text !== text)
        throw new Error(`demo_echo ${JSON.stringify(text)} answered ${JSON.stringify(r)}`);
      n++;
    }
  }
  await Promise.all(Array.from({ length: inflight }, (_, l) => lane(l)));
  return n;
}

let rc = 0;
try {
  let params;
  if (opts.cnv) {
    id = makeIdentity(opts.cnv, { echo: ['--allow', 'demo.echo', '--effects', 'read_only'] });
    params = { command: opts.cnv, args: serveArgs(id, 'echo') };
  } else {
    const server = join(dirname(fileURLToPath(import.meta.url)), 'sdk_echo_server.mjs');
    params = { command: process.execPath, args: [server] };
  }
  const transport = new StdioClientTransport({ ...params, env: childEnv(), stderr: 'inherit' });
  client = new Client({ name: 'libcnv-mcp-bench', version: '1.0.0' });
  await client.connect(transport);
  const { tools } = await client.listTools(); // as a host does; the client keeps the tools' metadata
  if (!tools.some((t) => t.name === 'demo_echo')) throw new Error('the server lists no demo_echo');
  await drive(opts.inflight, (n) => n >= opts.warmup);
  const t0 = process.hrtime.bigint();
  const stop = t0 + BigInt(opts.durationMs) * 1000000n;
  const calls = await drive(opts.inflight, () => process.hrtime.bigint() >= stop);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`calls ${calls} seconds ${seconds} calls_per_second ${calls / seconds}`);
} catch (e) {
  console.error(`load.mjs: ${e && e.stack ? e.stack : e}`);
  rc = 1;
} finally {
  await cleanup();
}
process.exit(rc);
