/**
 * TCP forwarding between the host and ZeroTier networks, both ways, many rules in one
 * process, so programs that know nothing of ZeroTier (curl, psql, nc) can use a network:
 *   127.0.0.1:8080=10.147.17.2:80   listen on the host, connect over ZeroTier
 *   zt:5432=127.0.0.1:5432           listen on our ZeroTier addresses, connect on the host
 *   zt:10.147.17.5:5432=...          the same on one ZeroTier address only
 * A listen port 0 picks a free one (Forwarder#ports says which).
 * Both legs have Nagle off, so small messages are not held back, and a half-close or a
 * reset on one leg is passed on to the other.
 */
import { EventEmitter } from 'node:events';
import nodeNet from 'node:net';

import { net as ztNet } from './net.js';
import type { ZeroTierNode } from './node.js';
import type { Server as ZtServer, Socket as ZtSocket } from './sockets/tcp.js';
import { invalidArgValue } from './validate.js';

export interface ForwardRule {
  /** The rule as written (for messages). */
  text: string;
  /** Listen on ZeroTier (true) or on the host. */
  fromZeroTier: boolean;
  /** '' listens on every address (ZeroTier side only). */
  listenHost: string;
  listenPort: number;
  targetHost: string;
  targetPort: number;
}

/** IP:port ([IP]:port for IPv6); port 0 (pick one) only where `allowZero`. */
function hostPort(text: string, allowZero = false): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const host = m?.[1] ?? '';
  const port = Number(m?.[2]);
  const min = allowZero ? 0 : 1;
  if (!Number.isInteger(port) || port < min || port > 65535 || nodeNet.isIP(host) === 0) {
    return undefined;
  }
  return { host, port };
}

/** Reads `<listen>=<target>`; throws ERR_INVALID_ARG_VALUE saying what is wrong. */
export function parseForwardRule(text: string): ForwardRule {
  const bad = (why: string) => invalidArgValue('rule', text, why);
  const eq = text.indexOf('=');
  if (eq < 0) throw bad('must be <listen>=<target>, e.g. 127.0.0.1:8080=10.147.17.2:80');
  const listen = text.slice(0, eq);
  const target = hostPort(text.slice(eq + 1));
  if (target === undefined) throw bad('needs a target IP:port (IPv6 as [IP]:port)');
  let fromZeroTier = false;
  let listenHost = '';
  let listenPort: number;
  if (listen.startsWith('zt:')) {
    fromZeroTier = true;
    const rest = listen.slice(3);
    const port = Number(rest);
    if (/^\d+$/.test(rest) && port <= 65535) {
      listenPort = port;
    } else {
      const l = hostPort(rest, true);
      if (l === undefined) throw bad('needs zt:<port> or zt:<IP>:<port> to listen on ZeroTier');
      listenHost = l.host;
      listenPort = l.port;
    }
  } else {
    const l = hostPort(listen, true);
    if (l === undefined) throw bad('needs a listen IP:port on the host, or zt:<port>');
    listenHost = l.host;
    listenPort = l.port;
  }
  return {
    text,
    fromZeroTier,
    listenHost,
    listenPort,
    targetHost: target.host,
    targetPort: target.port,
  };
}

export interface ForwardOptions {
  /** The node carrying the ZeroTier legs (default: the running one). */
  node?: ZeroTierNode;
  /** Give up connecting a ZeroTier target after this many ms; default 10 s. */
  connectTimeoutMs?: number;
}

/** One forwarded connection, as 'open' and 'close' events report it. */
export interface ForwardedConnection {
  rule: string;
  from: string;
  to: string;
  /** Bytes from the client to the target, and back (on 'close'). */
  bytesIn?: number;
  bytesOut?: number;
  /** Why it ended badly: an errno code (ECONNREFUSED, ETIMEDOUT, ECONNRESET, ...). */
  error?: string;
}

type AnySocket = nodeNet.Socket | ZtSocket;
const endpoint = (host: string | undefined, port: number | undefined) =>
  host?.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;

/**
 * The running forwards: 'open' and 'close' (ForwardedConnection) per connection,
 * `close()` to stop listening and cut the connections.
 */
export class Forwarder extends EventEmitter {
  readonly #servers: Array<nodeNet.Server | ZtServer> = [];
  readonly #sockets = new Set<AnySocket>();

  /** @internal */
  constructor(readonly rules: readonly ForwardRule[]) {
    super();
  }

  /** @internal */
  async start(rule: ForwardRule, options: ForwardOptions): Promise<void> {
    const onClient = (client: AnySocket) => this.#pipe(rule, client, options);
    const server = rule.fromZeroTier
      ? ztNet.createServer({ node: options.node, noDelay: true, allowHalfOpen: true }, onClient)
      : nodeNet.createServer({ noDelay: true, allowHalfOpen: true }, onClient);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => {
        const where = endpoint(rule.listenHost || '*', rule.listenPort);
        const why = e.code === 'EADDRINUSE' ? `${where} is already in use` : e.message;
        const error = new Error(`forward ${rule.text}: cannot listen: ${why} (${e.code ?? ''})`);
        (error as NodeJS.ErrnoException).code = e.code;
        reject(error);
      });
      if (rule.fromZeroTier) {
        (server as ZtServer).listen(rule.listenPort, rule.listenHost || undefined, () => resolve());
      } else {
        (server as nodeNet.Server).listen(rule.listenPort, rule.listenHost, () => resolve());
      }
    });
    this.#servers.push(server);
  }

  /** The port each rule listens on, in order. */
  get ports(): number[] {
    return this.#servers.map((s) => (s.address() as { port: number } | null)?.port ?? 0);
  }

  #pipe(rule: ForwardRule, client: AnySocket, options: ForwardOptions): void {
    const target: AnySocket = rule.fromZeroTier
      ? nodeNet.createConnection({
          host: rule.targetHost,
          port: rule.targetPort,
          noDelay: true,
          allowHalfOpen: true,
        })
      : ztNet.createConnection({
          host: rule.targetHost,
          port: rule.targetPort,
          noDelay: true,
          allowHalfOpen: true,
          timeoutMs: options.connectTimeoutMs ?? 10_000,
          node: options.node,
        });
    const info: ForwardedConnection = {
      rule: rule.text,
      from: endpoint(client.remoteAddress, client.remotePort),
      to: endpoint(rule.targetHost, rule.targetPort),
    };
    this.#sockets.add(client);
    this.#sockets.add(target);
    let failure: string | undefined;
    const onError = (other: AnySocket) => (e: NodeJS.ErrnoException) => {
      failure ??= e.code ?? e.message;
      // A reset stays a reset on the other leg; anything else closes it.
      if (e.code === 'ECONNRESET' && !other.destroyed && !other.connecting) other.resetAndDestroy();
      else other.destroy();
    };
    client.on('error', onError(target));
    target.on('error', onError(client));
    target.once('connect', () => this.emit('open', { ...info }));
    let closed = 0;
    const onClose = () => {
      if (++closed < 2) return;
      this.#sockets.delete(client);
      this.#sockets.delete(target);
      this.emit('close', {
        ...info,
        bytesIn: client.bytesRead,
        bytesOut: target.bytesRead,
        ...(failure === undefined ? {} : { error: failure }),
      });
    };
    client.once('close', onClose);
    target.once('close', onClose);
    // pipe() passes a FIN on with end(); both legs are half-open, so each direction
    // closes on its own and the sockets close once both have.
    client.pipe(target);
    target.pipe(client);
  }

  /** Stops listening and closes every forwarded connection. */
  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await Promise.all(
      this.#servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Starts forwarding for every rule (strings as `parseForwardRule` reads them); rejects,
 * with nothing left listening, if any rule cannot listen (a port in use, say).
 */
export async function forward(
  rules: ReadonlyArray<string | ForwardRule>,
  options: ForwardOptions = {},
): Promise<Forwarder> {
  const parsed = rules.map((r) => (typeof r === 'string' ? parseForwardRule(r) : r));
  const forwarder = new Forwarder(parsed);
  try {
    for (const rule of parsed) await forwarder.start(rule, options);
  } catch (e) {
    await forwarder.close();
    throw e;
  }
  return forwarder;
}
