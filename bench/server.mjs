// The benchmark's loopback server, in its own process so its work is not counted as the
// client's CPU. Answers every request with the same success envelope.
import { createServer } from 'node:http';

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
let requests = 0;
const server = createServer((req, res) => {
  requests++;
  req.resume();
  // Under /slow the reply waits 20 ms, like a refresh over a real network.
  const delay = req.url?.startsWith('/slow/') ? 20 : 0;
  const send = () => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  req.on('end', () => (delay ? setTimeout(send, delay) : send()));
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
process.on('message', (message) => {
  if (message === 'count') process.send?.({ requests });
  if (message === 'stop') server.close(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
