import { realpathSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A loopback server that is listening: its base URL, and how to stop it. */
export interface ListeningServer {
  /** `http://host:port`, without a trailing slash. */
  url: string;
  /** Stops the server; safe to call more than once. */
  close(): Promise<void>;
}

/** Listens on `host`:`port` (default 127.0.0.1, any free port); fails if the port is taken. */
export async function listen(
  server: Server,
  options: { host?: string; port?: number } = {},
): Promise<ListeningServer> {
  await new Promise<void>((listening, failed) => {
    server.once('error', failed);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', failed);
      listening();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    close() {
      closing ??= new Promise<void>((closed) => {
        server.close(() => closed());
        // SDK clients keep connections alive, and hanging requests never end: without this
        // close() would wait for their idle timeouts.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** A request's whole body as UTF-8 text. */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((done, failed) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
    req.on('error', failed);
  });
}

/** Whether the module at `moduleUrl` (its `import.meta.url`) is the script node was started with. */
export function isMainModule(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  const canonical = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return resolve(path);
    }
  };
  const self = canonical(fileURLToPath(moduleUrl));
  // `tsx local/gong-sandbox` (no extension) is a valid way to run it too.
  return canonical(entry) === self || canonical(`${entry}.ts`) === self;
}

/**
 * Runs a stand-in as a script (`tsx local/<name>.ts`) when `moduleUrl` is the module node was started
 * with: `start` brings it up, Ctrl-C or SIGTERM closes it, a failure to start exits 1 with its message.
 */
export function runAsScript(moduleUrl: string, start: () => Promise<{ close(): Promise<void> }>): void {
  if (!isMainModule(moduleUrl)) return;
  start().then(
    (server) => {
      const stop = () => {
        server.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
