// `cnv mcp serve` driven by the official MCP TypeScript SDK's client (the version pinned by
// package-lock.json), over stdio, as an MCP host would run it, and `cnv mcp serve --http`
// (Streamable HTTP on loopback) behind the SDK's StreamableHTTPClientTransport.
//
//   CNV_CLI=build/src/cli/cnv node tests/mcp/test_mcp_sdk.mjs
//
// Exits 0 when every check passed, 1 on a failure (the SDK not installed included). Every
// `cnv` process started is stopped and the temporary folder removed, on a failure and on
// SIGINT/SIGTERM too; a watchdog fails the run rather than letting it hang.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { childEnv, makeIdentity, removeIdentity, sdk, sdkMissing, serveArgs } from './harness.mjs';

const missing = sdkMissing();
if (missing) {
  console.log(`FAIL: ${missing}`);
  process.exit(1);
}
const CNV = process.env.CNV_CLI;
if (!CNV) {
  console.error('CNV_CLI must name the cnv tool (tests/mcp/CMakeLists.txt sets it)');
  process.exit(1);
}
const { Client } = await sdk('client/index.js');
const { StdioClientTransport } = await sdk('client/stdio.js');
const { StreamableHTTPClientTransport } = await sdk('client/streamableHttp.js');
const { LATEST_PROTOCOL_VERSION, McpError, ErrorCode } = await sdk('types.js');

const WATCHDOG_MS = 90000;
// How long `cnv mcp serve` may take to notice a cancel or a client gone (it needs far less).
const SETTLE_MS = 10000;

// ---- servers: each started one is tracked until it is closed ----------------------------

const live = new Set();

// Starts `cnv mcp serve` with the given token and flags behind the SDK's StdioClientTransport,
// connects a Client (initialize + initialized) and returns
// { client, transport, proc, stderr(), negotiated, exited }.
async function open(id, token, extra = []) {
  const transport = new StdioClientTransport({
    command: CNV,
    args: serveArgs(id, token, extra),
    env: childEnv(),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr.on('data', (chunk) => {
    stderr += chunk.toString('utf8');
  });
  const s = { transport, client: null, proc: null, negotiated: null, stderr: () => stderr };
  // The Client hands the negotiated revision to a transport that takes it (the HTTP ones do).
  transport.setProtocolVersion = (v) => {
    s.negotiated = v;
  };
  live.add(s);
  const client = new Client({ name: 'libcnv-mcp-test', version: '1.0.0' });
  s.client = client;
  try {
    await client.connect(transport);
  } catch (e) {
    await new Promise((r) => setTimeout(r, 100)); // the rest of its stderr
    throw new Error(`cnv ${serveArgs(id, token, extra).join(' ')}: ${e.message}; its stderr: ${stderr}`, { cause: e });
  }
  // The child itself, for its exit status: the transport keeps it in a private field and reports
  // no status (the SDK is pinned, so the field is known to be there).
  s.proc = transport._process;
  assert.ok(s.proc && s.proc.pid > 0, 'the transport started a process');
  s.exited = new Promise((resolve) => {
    if (s.proc.exitCode !== null || s.proc.signalCode !== null) resolve({ code: s.proc.exitCode, signal: s.proc.signalCode });
    else s.proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return s;
}

async function close(s) {
  if (!live.has(s)) return;
  live.delete(s);
  try {
    await s.client.close(); // ends stdin, then SIGTERM, then SIGKILL (the transport's close)
  } catch {
    // the process may be gone already
  }
  if (s.proc && s.proc.exitCode === null && s.proc.signalCode === null) {
    try {
      s.proc.kill('SIGKILL');
    } catch {
      // gone
    }
  }
}

// `cnv mcp serve ... --http 127.0.0.1:0`: resolves, once it prints
// `listening http://HOST:PORT/mcp`, to { proc, url, stderr(), exited }. Stopped by stopHttp
// (SIGTERM, then SIGKILL) or by cleanup.
const servers = new Set();

async function startHttp(id, token, extra = []) {
  const args = [...serveArgs(id, token, extra), '--http', '127.0.0.1:0'];
  const proc = spawn(CNV, args, { env: { ...process.env, ...childEnv() }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (chunk) => {
    stderr += chunk.toString('utf8');
  });
  const h = { proc, url: null, stderr: () => stderr };
  h.exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
    proc.once('error', (e) => resolve({ code: null, signal: null, error: e }));
  });
  servers.add(h);
  let gone = false;
  h.exited.then(() => {
    gone = true;
  });
  await waitFor(() => gone || /listening (http:\/\/\S+)\n/.test(stderr), SETTLE_MS, `cnv ${args.join(' ')} listens`);
  const m = /listening (http:\/\/\S+)\n/.exec(stderr);
  if (!m) throw new Error(`cnv ${args.join(' ')} exited before listening; its stderr: ${stderr}`);
  h.url = new URL(m[1]);
  assert.equal(h.url.hostname, '127.0.0.1');
  assert.equal(h.url.pathname, '/mcp');
  assert.ok(Number(h.url.port) > 0, 'port 0 picked a real port');
  return h;
}

// SIGTERM, then SIGKILL if it is still there after SETTLE_MS; resolves to its exit.
async function stopHttp(h) {
  if (!servers.has(h)) return h.exited;
  servers.delete(h);
  if (h.proc.exitCode === null && h.proc.signalCode === null) {
    h.proc.kill('SIGTERM');
    try {
      await within(SETTLE_MS, h.exited, 'the HTTP server stops on SIGTERM');
    } catch {
      h.proc.kill('SIGKILL');
    }
  }
  return h.exited;
}

// A Client over StreamableHTTPClientTransport to h, connected (initialize + initialized);
// tracked like the stdio sessions (its close() aborts the transport; it sends no DELETE).
async function openHttp(h) {
  const transport = new StreamableHTTPClientTransport(h.url);
  const client = new Client({ name: 'libcnv-mcp-http-test', version: '1.0.0' });
  const s = { transport, client, proc: null, stderr: h.stderr };
  live.add(s);
  await client.connect(transport);
  return s;
}

async function closeAll() {
  await Promise.all([...live].map(close));
  await Promise.all([...servers].map(stopHttp));
}

function within(ms, promise, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

async function waitFor(pred, ms, what) {
  const until = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

const text = (result) => result.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');

// ---- the checks -------------------------------------------------------------------------

const DEMOS = ['demo_echo', 'demo_fail', 'demo_sleep', 'demo_types'];
// Strings no quoting may touch: both quote kinds, backslashes, newlines, tabs, NUL, emoji,
// things that look like flags or another capability.
const HARD = [
  'plain',
  '',
  'say "hi"',
  "it's",
  `both " and ' quotes`,
  'back\\slash \\" \\n',
  'line one\nline two\r\n',
  'tab\there',
  'nul\u0000inside',
  '\u0000',
  'emoji 🦀 and ∑ and é',
  '--text injected',
  '--s x --i 1',
  'demo.fail',
  'demo.echo --text x; demo.fail',
  ' leading and trailing ',
  '$(echo no) `no` ${no}',
  'x'.repeat(100),
];
// The runtime copies each invocation line into a queue record of max_line bytes (232 by
// default, docs/runtime.md): a call whose line would not fit is denied, never cut.
const TOO_LONG = 'x'.repeat(4096);

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

let id; // the keys and tokens, made once
let main; // a session with the demo.* token, shared by the checks that need no flags

test('initialize negotiates the SDK\'s latest revision', async () => {
  assert.equal(main.negotiated, LATEST_PROTOCOL_VERSION);
  const info = main.client.getServerVersion();
  assert.equal(typeof info.name, 'string');
  assert.ok(info.name.length > 0);
  assert.equal(typeof info.version, 'string');
  assert.ok(main.client.getServerCapabilities().tools, 'the tools capability is announced');
  assert.deepEqual(await main.client.ping(), {});
});

test('tools/list: every demo, its inputSchema and annotations', async () => {
  const { tools, nextCursor } = await main.client.listTools();
  assert.equal(nextCursor, undefined, 'one page at the default page size');
  const names = tools.map((t) => t.name);
  for (const n of DEMOS) assert.ok(names.includes(n), `${n} is listed (got ${names.join(', ')})`);
  assert.equal(new Set(names).size, names.length, 'no name twice');
  for (const t of tools) {
    assert.match(t.name, /^[a-zA-Z0-9_-]{1,64}$/);
    assert.equal(t.inputSchema.type, 'object', `${t.name}: inputSchema is an object schema`);
    assert.ok(t.annotations, `${t.name} has annotations`);
  }
  const by = Object.fromEntries(tools.map((t) => [t.name, t]));
  const echo = by.demo_echo.inputSchema;
  assert.deepEqual(echo.properties.text.type, 'string');
  assert.deepEqual(echo.required, ['text']);
  const sleep = by.demo_sleep.inputSchema;
  assert.equal(sleep.properties.ms.type, 'integer');
  assert.equal(sleep.properties.ms.minimum, 0);
  assert.equal(sleep.properties.ms.maximum, 30000);
  const types = by.demo_types.inputSchema;
  assert.equal(types.properties.s.type, 'string');
  assert.equal(types.properties.i.type, 'integer');
  assert.equal(types.properties.n.type, 'number');
  assert.equal(types.properties.b.type, 'boolean');
  assert.deepEqual(types.properties.e.enum, ['red', 'green', 'blue']);
  assert.equal(types.properties.tags.type, 'array');
  assert.equal(types.properties.tags.items.type, 'string');
  assert.deepEqual(types.required, ['s']);
  // Every demo's effects are read_only alone: the hints say read-only, and no more (the
  // mapping of idempotent, destructive and open-world is tests/mcp_core's).
  for (const name of ['demo_echo', 'demo_sleep', 'demo_fail', 'demo_types']) {
    assert.equal(by[name].annotations.readOnlyHint, true, `${name} is read-only`);
    assert.equal(by[name].annotations.idempotentHint, false, `${name} declares no idempotent effect`);
    assert.equal(by[name].annotations.openWorldHint, false, `${name} declares no network effect`);
  }
  for (const t of tools) assert.notEqual(t.annotations.destructiveHint, true, `${t.name} is not destructive`);
});

test('tools/list with --page-size 2 walks every page', async () => {
  const s = await open(id, 'all', ['--page-size', '2']);
  try {
    const seen = [];
    let cursor;
    let pages = 0;
    do {
      const page = await s.client.listTools(cursor === undefined ? {} : { cursor });
      pages++;
      assert.ok(page.tools.length >= 1 && page.tools.length <= 2, `page ${pages} has 1..2 tools`);
      seen.push(...page.tools.map((t) => t.name));
      cursor = page.nextCursor;
      assert.ok(pages < 100, 'the cursor ends');
    } while (cursor !== undefined);
    const full = (await main.client.listTools()).tools.map((t) => t.name);
    assert.deepEqual(seen, full, 'the pages, in order, are the whole list once');
    assert.equal(pages, Math.ceil(full.length / 2));
    await assert.rejects(s.client.listTools({ cursor: 'not a cursor we made' }), (e) => e instanceof McpError && e.code === ErrorCode.InvalidParams);
  } finally {
    await close(s);
  }
});

test('demo.echo: every hard string comes back intact', async () => {
  for (const v of HARD) {
    const r = await main.client.callTool({ name: 'demo_echo', arguments: { text: v } });
    assert.ok(!r.isError, `echo ${JSON.stringify(v)}: ${text(r)}`);
    assert.equal(text(r), v, `echo ${JSON.stringify(v)}`);
  }
  const r = await main.client.callTool({ name: 'demo_echo', arguments: { text: TOO_LONG } });
  assert.equal(r.isError, true, 'a line past the record is refused');
  assert.match(text(r), /too_long/);
});

test('demo.types: every argument type arrives byte-exact', async () => {
  const cases = [
    { s: 'x' },
    { s: 'all', i: 42, n: 3.25, b: true, e: 'green', tags: ['a', 'b'] },
    { s: '', i: -9007199254740991, n: -0.5, b: false, e: 'red', tags: [] },
    { s: 'big', i: 9007199254740991, n: 1e300, e: 'blue', tags: ['x'] },
    { s: 'some', tags: HARD.slice(0, 6) },
    ...HARD.map((v) => ({ s: v })),
    ...HARD.map((v) => ({ s: 't', tags: [v, 'demo.fail'] })),
  ];
  for (const args of cases) {
    const r = await main.client.callTool({ name: 'demo_types', arguments: args });
    const shown = JSON.stringify(args).slice(0, 120);
    assert.ok(!r.isError, `${shown}: ${text(r)}`);
    assert.ok(r.structuredContent, `${shown}: structuredContent`);
    // An empty list is no value at all: the line has no --tags, so the handler got none.
    const expected = Object.fromEntries(Object.entries(args).filter(([, v]) => !(Array.isArray(v) && v.length === 0)));
    assert.deepEqual(r.structuredContent, expected, `${shown}: exactly what was sent`);
    assert.deepEqual(JSON.parse(text(r)), r.structuredContent, `${shown}: the text content is the same JSON`);
  }
});

test('protocol errors: an unknown tool is McpError -32602', async () => {
  for (const name of ['demo_nope', 'nope', 'demo.echo', 'demo_Echo', '']) {
    await assert.rejects(
      main.client.callTool({ name, arguments: { text: 'x' } }),
      (e) => e instanceof McpError && e.code === ErrorCode.InvalidParams,
      `tool ${JSON.stringify(name)}`,
    );
  }
});

test('argument errors are isError results, and nothing is injected', async () => {
  const bad = [
    ['demo_echo', {}, 'missing'],
    ['demo_echo', { text: 5 }, 'number for string'],
    ['demo_echo', { text: null }, 'null'],
    ['demo_echo', { text: ['a'] }, 'array for string'],
    ['demo_types', { s: 'x', extra: 'y' }, 'unknown argument'],
    ['demo_sleep', {}, 'missing integer'],
    ['demo_types', { s: 'x', i: 1.5 }, 'fraction for integer'],
    ['demo_types', { s: 'x', i: '1' }, 'string for integer'],
    ['demo_types', { s: 'x', n: 'nan' }, 'string for number'],
    ['demo_types', { s: 'x', b: 'true' }, 'string for boolean'],
    ['demo_types', { s: 'x', e: 'purple' }, 'not in the enum'],
    ['demo_types', { s: 'x', tags: [1] }, 'number in repeated'],
    ['demo_sleep', { ms: -1 }, 'below the minimum'],
    ['demo_sleep', { ms: 30001 }, 'above the maximum'],
  ];
  for (const [name, args, what] of bad) {
    const r = await main.client.callTool({ name, arguments: args });
    assert.equal(r.isError, true, `${name} ${what}: isError (got ${text(r)})`);
    assert.ok(text(r).length > 0, `${name} ${what}: says why`);
  }
});

test('a failing handler is an isError result', async () => {
  const r = await main.client.callTool({ name: 'demo_fail', arguments: {} });
  assert.equal(r.isError, true);
  assert.match(text(r), /demo\.fail always fails/);
});

test('denial: a token without demo.fail hides it and denies its call', async () => {
  const s = await open(id, 'nofail');
  try {
    const names = (await s.client.listTools()).tools.map((t) => t.name);
    assert.ok(!names.includes('demo_fail'), `demo_fail hidden (got ${names.join(', ')})`);
    for (const n of ['demo_echo', 'demo_sleep', 'demo_types']) assert.ok(names.includes(n), `${n} still listed`);
    const r = await s.client.callTool({ name: 'demo_fail', arguments: {} });
    assert.equal(r.isError, true);
    assert.match(text(r), /^denied: not_allowed: /, `the denial reason (got ${text(r)})`);
    assert.doesNotMatch(text(r), /always fails/, 'the handler never ran');
    const ok = await s.client.callTool({ name: 'demo_echo', arguments: { text: 'still here' } });
    assert.equal(text(ok), 'still here');
  } finally {
    await close(s);
  }
});

test('progress: demo.sleep reports increasing progress', async () => {
  const seen = [];
  const r = await main.client.callTool({ name: 'demo_sleep', arguments: { ms: 800 } }, undefined, {
    onprogress: (p) => seen.push(p),
  });
  assert.ok(!r.isError, text(r));
  assert.ok(seen.length >= 2, `at least two progress notifications (got ${seen.length})`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i].progress > seen[i - 1].progress, `progress increases: ${JSON.stringify(seen)}`);
  for (const p of seen) if (p.total !== undefined) assert.ok(p.progress <= p.total, `progress within total: ${JSON.stringify(p)}`);
});

// Starts a 30 s demo.sleep, aborts it once the handler is surely running (it reported
// progress), and waits until the server's --verbose stderr (stderr() reads it) shows one more
// cancelled call.
async function cancelLongSleep(client, stderr) {
  const cancelled = () => (stderr().match(/mcp: demo_sleep cancelled /g) || []).length;
  const before = cancelled();
  const ac = new AbortController();
  let progressed = 0;
  const started = Date.now();
  const call = client.callTool({ name: 'demo_sleep', arguments: { ms: 30000 } }, undefined, {
    signal: ac.signal,
    timeout: 60000,
    onprogress: () => progressed++,
  });
  await waitFor(() => progressed > 0, SETTLE_MS, 'demo.sleep reports progress before the cancel');
  ac.abort('test cancels');
  await assert.rejects(call);
  await waitFor(() => cancelled() > before, SETTLE_MS, `--verbose shows the call cancelled (stderr: ${stderr()})`);
  assert.ok(Date.now() - started < 20000, 'the call ended long before its 30 s');
}

test('cancel: an aborted demo.sleep is cancelled in the runtime; the session goes on', async () => {
  const s = await open(id, 'all', ['--verbose']);
  try {
    await cancelLongSleep(s.client, s.stderr);
    assert.deepEqual(await s.client.ping(), {});
    const r = await s.client.callTool({ name: 'demo_echo', arguments: { text: 'after' } });
    assert.equal(text(r), 'after');
    // The line is written on the worker as the handler returns: it may reach us after the answer.
    await waitFor(() => /mcp: demo_echo ran CNV_OK\n/.test(s.stderr()), SETTLE_MS, '--verbose shows the completed call');
  } finally {
    await close(s);
  }
});

test('a client that disconnects mid-call: the server exits 0 soon after', async () => {
  const s = await open(id, 'all');
  let progressed = 0;
  const call = s.client.callTool({ name: 'demo_sleep', arguments: { ms: 30000 } }, undefined, {
    timeout: 60000,
    onprogress: () => progressed++,
  });
  call.catch(() => {}); // it dies with the connection
  await waitFor(() => progressed > 0, SETTLE_MS, 'demo.sleep is running');
  const pid = s.proc.pid;
  // The client goes away without a word: its end of both pipes closes.
  s.proc.stdin.destroy();
  s.proc.stdout.destroy();
  const { code, signal } = await within(SETTLE_MS, s.exited, 'the server exits after its client left');
  assert.equal(signal, null, `exited by itself (signal ${signal}; stderr: ${s.stderr()})`);
  assert.equal(code, 0, `exit status 0 (stderr: ${s.stderr()})`);
  assert.equal(alive(pid), false, 'nothing left running');
  await close(s);
});

// ---- over Streamable HTTP: `cnv mcp serve --http` and the SDK's HTTP client ------------

let web; // one `cnv mcp serve --http` with the demo.* token and --verbose, for every HTTP check

test('http: initialize, ping and tools/list over Streamable HTTP', async () => {
  web = await startHttp(id, 'all', ['--verbose']);
  const s = await openHttp(web);
  try {
    assert.equal(s.transport.protocolVersion, LATEST_PROTOCOL_VERSION, 'the SDK\'s latest revision is negotiated');
    assert.match(s.transport.sessionId, /^[0-9a-f]{32}$/, 'a session id came with initialize');
    assert.ok(s.client.getServerCapabilities().tools, 'the tools capability is announced');
    assert.deepEqual(s.client.getServerVersion(), main.client.getServerVersion(), 'the same server as over stdio');
    assert.deepEqual(await s.client.ping(), {});
    const { tools, nextCursor } = await s.client.listTools();
    assert.equal(nextCursor, undefined);
    for (const n of DEMOS) assert.ok(tools.some((t) => t.name === n), `${n} is listed`);
    assert.deepEqual(tools, (await main.client.listTools()).tools, 'the very list stdio gives');
    // A second client gets a session of its own.
    const t = await openHttp(web);
    assert.notEqual(t.transport.sessionId, s.transport.sessionId);
    await close(t);
  } finally {
    await close(s);
  }
});

test('http: demo.types carries every hard string byte-exact', async () => {
  const s = await openHttp(web);
  try {
    const cases = [
      { s: 'all', i: 42, n: 3.25, b: true, e: 'green', tags: ['a', 'b'] },
      ...HARD.map((v) => ({ s: v })),
      { s: 't', tags: HARD },
    ];
    for (const args of cases) {
      const r = await s.client.callTool({ name: 'demo_types', arguments: args });
      const shown = JSON.stringify(args).slice(0, 120);
      assert.ok(!r.isError, `${shown}: ${text(r)}`);
      assert.deepEqual(r.structuredContent, args, `${shown}: exactly what was sent`);
    }
  } finally {
    await close(s);
  }
});

test('http: progress from demo.sleep arrives on the call\'s SSE stream', async () => {
  const s = await openHttp(web);
  try {
    const seen = [];
    const r = await s.client.callTool({ name: 'demo_sleep', arguments: { ms: 800 } }, undefined, {
      onprogress: (p) => seen.push(p),
    });
    assert.ok(!r.isError, text(r));
    assert.ok(seen.length >= 2, `at least two progress notifications (got ${seen.length})`);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i].progress > seen[i - 1].progress, `progress increases: ${JSON.stringify(seen)}`);
  } finally {
    await close(s);
  }
});

test('http: an AbortSignal cancels demo.sleep in the runtime; the session goes on', async () => {
  const s = await openHttp(web);
  try {
    await cancelLongSleep(s.client, web.stderr);
    assert.deepEqual(await s.client.ping(), {});
    const r = await s.client.callTool({ name: 'demo_echo', arguments: { text: 'after' } });
    assert.equal(text(r), 'after');
  } finally {
    await close(s);
  }
});

test('http: terminateSession ends the session; a later call fails, its id gets 404', async () => {
  const s = await openHttp(web);
  try {
    assert.equal(text(await s.client.callTool({ name: 'demo_echo', arguments: { text: 'before' } })), 'before');
    const sid = s.transport.sessionId;
    await s.transport.terminateSession(); // DELETE
    assert.equal(s.transport.sessionId, undefined);
    await assert.rejects(s.client.callTool({ name: 'demo_echo', arguments: { text: 'after' } }), 'a call after the end fails');
    // The old id itself: 404 (the specification's answer for an ended session).
    const res = await fetch(web.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sid,
        'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    await res.body?.cancel();
    assert.equal(res.status, 404, 'the ended session is not found');
  } finally {
    await close(s);
  }
});

test('http: SIGTERM stops the server, exit 0', async () => {
  const pid = web.proc.pid;
  const { code, signal } = await stopHttp(web);
  assert.equal(signal, null, `exited by itself (signal ${signal}; stderr: ${web.stderr()})`);
  assert.equal(code, 0, `exit status 0 (stderr: ${web.stderr()})`);
  assert.equal(alive(pid), false, 'nothing left running');
});

// ---- the run ----------------------------------------------------------------------------

let failed = 0;
let finished = false;

async function cleanup() {
  await closeAll();
  removeIdentity(id);
  id = undefined;
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    console.error(`stopped by ${sig}`);
    cleanup().finally(() => process.exit(1));
  });
}
const watchdog = setTimeout(() => {
  console.error(`not ok: the run took more than ${WATCHDOG_MS} ms`);
  cleanup().finally(() => process.exit(1));
}, WATCHDOG_MS);

try {
  id = makeIdentity(CNV, {
    all: ['--allow', 'demo.*', '--effects', 'read_only'],
    nofail: ['--allow', 'demo.*', '--forbid', 'demo.fail', '--effects', 'read_only'],
  });
  main = await open(id, 'all');
  for (const t of tests) {
    try {
      await t.fn();
      console.log(`ok - ${t.name}`);
    } catch (e) {
      failed++;
      console.log(`not ok - ${t.name}`);
      console.log(`  ${String(e && e.stack ? e.stack : e).split('\n').join('\n  ')}`);
    }
  }
} catch (e) {
  failed++;
  console.log(`not ok - setup: ${e && e.stack ? e.stack : e}`);
} finally {
  await cleanup();
  clearTimeout(watchdog);
  finished = true;
}
console.log(failed ? `${failed} of ${tests.length} failed` : `all ${tests.length} passed`);
process.exit(failed ? 1 : finished ? 0 : 1);
