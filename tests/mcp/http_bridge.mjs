// A Streamable HTTP front for `cnv mcp serve` over stdio, made of the official SDK's own
// transports, so that HTTP-only MCP tools (the conformance suite: docs/mcp-conformance.md) can
// reach the stdio server. Each HTTP session (an initialize without a session id) gets its own
// `cnv mcp serve` process behind the SDK's StdioClientTransport; every JSON-RPC message is passed
// on unchanged both ways (responses, and progress notifications, on the stream of the request
// they belong to). What is checked through it is therefore cnv's JSON-RPC handling; the HTTP
// layer (headers, session ids, SSE, DNS rebinding protection) is the SDK's, not ours.
//
//   node tests/mcp/http_bridge.mjs --cnv PATH [--port N]    (default port 0: one is picked)
//
// Prints `listening http://127.0.0.1:PORT/mcp` once ready. Serves until SIGINT/SIGTERM, then
// stops every `cnv` process, removes the temporary keys and exits 0.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { childEnv, makeIdentity, removeIdentity, sdk, sdkMissing, serveArgs } from './harness.mjs';

const argv = process.argv.slice(2);
let cnv = null;
let port = 0;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--cnv') cnv = argv[++i];
  else if (argv[i] === '--port') port = Number(argv[++i]);
  else {
    console.error(`http_bridge.mjs: unknown argument ${argv[i]}`);
    process.exit(2);
  }
}
if (!cnv || !Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('usage: node tests/mcp/http_bridge.mjs --cnv PATH [--port N]');
  process.exit(2);
}
const missing = sdkMissing();
if (missing) {
  console.error(missing);
  process.exit(1);
}
const { StdioClientTransport } = await sdk('client/stdio.js');
const { StreamableHTTPServerTransport } = await sdk('server/streamableHttp.js');

const id = makeIdentity(cnv, { all: ['--allow', 'demo.*', '--effects', 'read_only'] });
const sessions = new Map(); // session id -> { http, stdio }

// One HTTP transport wired to one `cnv mcp serve`.
async function bridge() {
  const stdio = new StdioClientTransport({ command: cnv, args: serveArgs(id, 'all'), env: childEnv(), stderr: 'inherit' });
  const progressOf = new Map(); // progress token -> the request id it reports on
  const http = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (sid) => sessions.set(sid, { http, stdio }),
  });
  http.onmessage = (msg) => {
    const token = msg.params?._meta?.progressToken;
    if (msg.id !== undefined && token !== undefined) progressOf.set(token, msg.id);
    stdio.send(msg).catch((e) => console.error(`http_bridge: to cnv: ${e.message}`));
  };
  stdio.onmessage = (msg) => {
    let related;
    if ('id' in msg && ('result' in msg || 'error' in msg)) related = msg.id;
    else if (msg.method === 'notifications/progress') related = progressOf.get(msg.params?.progressToken);
    http.send(msg, related === undefined ? undefined : { relatedRequestId: related }).catch((e) => console.error(`http_bridge: to the client: ${e.message}`));
    if (related !== undefined && msg.id === related) {
      for (const [t, r] of progressOf) if (r === related) progressOf.delete(t);
    }
  };
  const stop = () => {
    if (http.sessionId) sessions.delete(http.sessionId);
    stdio.close().catch(() => {});
  };
  http.onclose = stop;
  stdio.onclose = () => http.close().catch(() => {});
  await stdio.start();
  await http.start();
  return { http, stdio, stop };
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    const sid = req.headers['mcp-session-id'];
    const known = typeof sid === 'string' ? sessions.get(sid) : undefined;
    if (known) {
      await known.http.handleRequest(req, res);
      return;
    }
    if (sid !== undefined || req.method !== 'POST') {
      res.writeHead(sid !== undefined ? 404 : 400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'unknown or missing session id' }, id: null }));
      return;
    }
    // A new session: the SDK's transport refuses anything but an initialize here.
    const b = await bridge();
    await b.http.handleRequest(req, res);
    if (!b.http.sessionId) b.stop();
  } catch (e) {
    console.error(`http_bridge: ${e && e.stack ? e.stack : e}`);
    if (!res.headersSent) res.writeHead(500).end();
  }
});

function shutdown() {
  server.close();
  Promise.all([...sessions.values()].map((s) => s.stdio.close().catch(() => {}))).finally(() => {
    removeIdentity(id);
    process.exit(0);
  });
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
server.listen(port, '127.0.0.1', () => {
  console.log(`listening http://127.0.0.1:${server.address().port}/mcp`);
});
