// The benchmark's loopback server, in its own process so its work is not counted as the
// client's CPU. Answers every request with the same success envelope, in the reply shape its
// path's first segment names:
//   /cl/…       with Content-Length
//   /chunked/…  chunked transfer encoding, no length (most dynamic servers)
//   /gzip/…     gzip-compressed, chunked (a server or proxy that compresses JSON)
//   /slow/…     with Content-Length, after 20 ms (a refresh over a real network)
import { createServer } from 'node:http';
import { gzipSync } from 'node:zlib';

const body = JSON.stringify({
  code: 0,
  message: '',
  data: {
    token: 'm_bench-token',
    expired_at: '2099-04-14T12:13:57.859Z',
    issued_at: '2026-01-14T12:13:57.859Z',
    account_info: { member_id: '10086', aaid: '20001', account_channel: 'lb' },
  },
});
const gzipped = gzipSync(body);
let requests = 0;
const server = createServer((req, res) => {
  requests++;
  req.resume();
  const shape = req.url?.split('/')[1];
  const send = () => {
    if (shape === 'chunked') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(body);
      res.end();
    } else if (shape === 'gzip') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
      res.write(gzipped);
      res.end();
    } else {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    }
  };
  req.on('end', () => (shape === 'slow' ? setTimeout(send, 20) : send()));
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
process.on('message', (message) => {
  if (message === 'count') process.send?.({ requests });
  if (message === 'stop') server.close(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
