// Serves the built docs page and the spec file on 127.0.0.1 for `npm start` (and the browser
// test): `/` is docs/index.html, `/openapi.yaml` is the spec, byte for byte. Files are read on
// each request, so a rebuild (`npm run docs`) shows on reload.
import { readFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { PortInUseError } from './port-in-use-error.js';

export interface DocsServer {
  /** e.g. http://127.0.0.1:8080 (no trailing slash) */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface DocsServerOptions {
  /** 0 picks a free port. */
  port: number;
  docsFile: string;
  specFile: string;
  /** Named in the busy-port error, e.g. "--port <n> or PORT=<n>". */
  howToChoosePort?: string;
}

const ROUTES: Record<string, { file: 'docsFile' | 'specFile'; type: string }> = {
  '/': { file: 'docsFile', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'docsFile', type: 'text/html; charset=utf-8' },
  '/openapi.yaml': { file: 'specFile', type: 'application/yaml; charset=utf-8' },
};

export async function startDocsServer(options: DocsServerOptions): Promise<DocsServer> {
  const sockets = new Set<Socket>();
  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    const route = ROUTES[path];
    if (!route) return send(response, 404, 'text/plain; charset=utf-8', `Not found. Try / (the docs) or /openapi.yaml.\n`);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      return send(response, 405, 'text/plain; charset=utf-8', 'Method not allowed.\n');
    }
    try {
      const body = await readFile(options[route.file]);
      send(response, 200, route.type, request.method === 'HEAD' ? undefined : body, body.length);
    } catch (error) {
      send(response, 500, 'text/plain; charset=utf-8', `Cannot read ${options[route.file]}: ${(error as Error).message}\n`);
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(options.port, 'docs server', options.howToChoosePort) : error),
    );
    server.listen(options.port, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function send(response: ServerResponse, status: number, type: string, body?: string | Buffer, length?: number): void {
  response.writeHead(status, {
    'Content-Type': type,
    'Content-Length': String(length ?? Buffer.byteLength(body ?? '')),
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  response.end(body);
}
