// A small HTTP server on 127.0.0.1 for tests: records each request exactly as it arrived
// and answers with whatever the test's handler does.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  /** Raw header pairs in the order received, names as sent. */
  rawHeaders: string[];
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type Handler = (request: RecordedRequest, response: ServerResponse, socket: Socket) => void | Promise<void>;

export interface LoopbackServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** Starts a server; `handler` may be swapped per test through the returned `setHandler`. */
export async function startLoopbackServer(handler: Handler): Promise<LoopbackServer & { setHandler(h: Handler): void }> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      rawHeaders: req.rawHeaders,
      headers: req.headers,
      body: Buffer.concat(chunks),
    };
    requests.push(recorded);
    await current(recorded, res, req.socket);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setHandler: (h) => void (current = h),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers with a JSON body (or raw text) and a status. */
export function reply(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_request, response) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    response.end(text);
  };
}

export const successEnvelope = {
  code: 0,
  message: '',
  data: {
    token: 'NEW-TOKEN-value-1234567890',
    expired_at: '2099-04-14T12:13:57.859Z',
    issued_at: '2026-01-14T12:13:57.859Z',
    account_info: { member_id: '10086', aaid: '20001', account_channel: 'lb' },
  },
};
