// The error `npm start` reports when a port it needs is taken: it names the port, what
// wanted it, and how to choose another.
import { createServer } from 'node:net';

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';

  constructor(
    readonly port: number,
    readonly what: string,
    howToChoose = 'another port',
  ) {
    super(`Port ${port} on 127.0.0.1 is already in use, so the ${what} cannot start there. Choose another with ${howToChoose}.`);
  }
}

/** Resolves when `port` can be listened on at 127.0.0.1 right now; rejects with PortInUseError if not. */
export function assertPortFree(port: number, what: string, howToChoose?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(port, what, howToChoose) : error),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}
