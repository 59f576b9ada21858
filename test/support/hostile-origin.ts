// Origins that play the attacker (or the CDN) around a real docker-registry: a front that forwards
// to it and may rewrite what it answers, on 127.0.0.1 or 127.0.0.2 (another origin on the same
// machine), over plain HTTP or TLS. Every request each one receives is recorded with its
// Authorization header, so a test can see where credentials went.
import { request as httpRequest, createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  path: string;
  authorization?: string;
}

export interface Origin {
  /** host:port */
  host: string;
  /** scheme://host:port */
  origin: string;
  requests: Seen[];
  close(): Promise<void>;
}

export interface Canned {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface OriginOptions {
  /** 127.0.0.1 (default) or another loopback address: a different origin on the same machine. */
  address?: string;
  tls?: { cert: string; key: string };
  /** A plain-HTTP registry to forward to, as a reverse proxy does (Host kept, so its Locations name this origin). */
  backend?: string;
  /** Answer here instead of forwarding (undefined: forward). */
  answer?: (req: IncomingMessage, self: Origin) => Canned | undefined | Promise<Canned | undefined>;
  /** Edits the backend's answer headers before they go back. */
  rewrite?: (req: IncomingMessage, status: number, headers: IncomingHttpHeaders) => void;
}

export async function startOrigin(opts: OriginOptions): Promise<Origin> {
  const address = opts.address ?? '127.0.0.1';
  const scheme = opts.tls ? 'https' : 'http';
  const self: Origin = { host: '', origin: '', requests: [], close: async () => undefined };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    self.requests.push({ method: req.method!, path: req.url!, authorization: req.headers.authorization });
    void (async () => {
      const canned = await opts.answer?.(req, self);
      if (canned) {
        req.resume();
        res.writeHead(canned.status, canned.headers).end(canned.body);
        return;
      }
      if (!opts.backend) {
        req.resume();
        res.writeHead(404).end();
        return;
      }
      // distribution builds its Locations from Host and X-Forwarded-Proto (registry/api/v2/urls.go).
      const headers = { ...req.headers, ...(opts.tls ? { 'x-forwarded-proto': 'https' } : {}) };
      const upstream = httpRequest(new URL(req.url!, opts.backend), { method: req.method, headers }, (answer) => {
        const out = { ...answer.headers };
        opts.rewrite?.(req, answer.statusCode ?? 502, out);
        res.writeHead(answer.statusCode ?? 502, out as Record<string, string>);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    })().catch(() => res.destroy());
  };
  const server: Server = opts.tls ? createHttpsServer({ cert: readFileSync(opts.tls.cert), key: readFileSync(opts.tls.key) }, handle) : createHttpServer(handle);
  const port = await new Promise<number>((resolve) => server.listen(0, address, () => resolve((server.address() as AddressInfo).port)));
  server.unref();
  self.host = `${address}:${port}`;
  self.origin = `${scheme}://${self.host}`;
  self.close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return self;
}
