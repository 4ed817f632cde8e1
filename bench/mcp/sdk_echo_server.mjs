// The peer of mcp_tools_call/cnv: the official MCP TypeScript SDK's own server (McpServer over
// stdio) with the same echo tool as `cnv mcp serve`'s demo.echo: one required string argument
// `text`, answered as one text content, read-only. The SDK is the one tests/mcp/package-lock.json
// pins (tests/mcp/node_modules).
//
//   node bench/mcp/sdk_echo_server.mjs
//
// Serves until its stdin ends, then exits 0.
import { nodeModule, sdk, sdkMissing } from '../../tests/mcp/harness.mjs';

const missing = sdkMissing();
if (missing) {
  console.error(missing);
  process.exit(1);
}
const { McpServer } = await sdk('server/mcp.js');
const { StdioServerTransport } = await sdk('server/stdio.js');
// zod, the schema library McpServer takes tool arguments in, as the SDK itself resolves it.
const { z } = await nodeModule('zod/index.js');

const server = new McpServer({ name: 'sdk-echo', version: '1.0.0' });
server.registerTool(
  'demo_echo',
  {
    description: 'Answers with its text argument',
    inputSchema: { text: z.string() },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  },
  async ({ text }) => ({ content: [{ type: 'text', text }] }),
);
const transport = new StdioServerTransport();
transport.onclose = () => process.exit(0);
process.stdin.on('end', () => process.exit(0));
await server.connect(transport);
