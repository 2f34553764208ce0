// A plain broadcast server on the npm package `ws`: the reference that bench/fanout_bench
// compares Splitstream's fan-out with (docs/benchmarks.md).
//
//   node bench/ws_broadcast.mjs PORT
//
// /ws accepts the Protobuf subprotocol as Splitstream does and answers a viewer's first message
// with two small messages in place of Subscribed and the snapshot. GET /readyz answers 200.
// POST /broadcast with a file name as its body sends the file's messages to every viewer,
// each after its gap (per message: the gap in microseconds and the length, 32-bit little
// endian, then the bytes), the way the `ws` README broadcasts; it answers as it starts.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node bench/ws_broadcast.mjs PORT');
  process.exit(2);
}

function messages(file) {
  const data = readFileSync(file);
  const out = [];
  for (let at = 0; at + 8 <= data.length; ) {
    const gapUs = data.readUInt32LE(at);
    const size = data.readUInt32LE(at + 4);
    out.push({ gapUs, bytes: data.subarray(at + 8, at + 8 + size) });
    at += 8 + size;
  }
  return out;
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/readyz') {
    res.end('ready');
    return;
  }
  if (req.method === 'POST' && req.url === '/broadcast') {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', async () => {
      const all = messages(body);
      res.end(`broadcasting ${all.length} messages`);
      for (const m of all) {
        if (m.gapUs > 0) await sleep(m.gapUs / 1000);
        for (const client of wss.clients) client.send(m.bytes, { binary: true });
      }
    });
    return;
  }
  res.statusCode = 404;
  res.end();
});

const wss = new WebSocketServer({
  server,
  path: '/ws',
  perMessageDeflate: false,
  handleProtocols: (protocols) =>
    protocols.has('splitstream.v1.protobuf') ? 'splitstream.v1.protobuf' : false,
});
wss.on('connection', (ws) => {
  ws.once('message', () => {
    ws.send(Buffer.from([0x08, 0x00]), { binary: true });
    ws.send(Buffer.from([0x08, 0x00]), { binary: true });
  });
});

server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
