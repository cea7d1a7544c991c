/**
 * `--forward` for the node command: TCP between the host and a ZeroTier network, both
 * ways, so programs that know nothing of ZeroTier (curl, psql, nc) can use a network.
 *   127.0.0.1:8080=172.29.1.1:80   listen on the host, connect over ZeroTier
 *   zt:5432=127.0.0.1:5432          listen on our ZeroTier addresses, connect on the host
 */
import nodeNet from 'node:net';

import { net as ztNet } from '../net.js';
import type { ZeroTierNode } from '../node.js';
import { CliError } from './io.js';

export interface ForwardSpec {
  text: string;
  /** Listen on ZeroTier (true) or on the host. */
  fromZeroTier: boolean;
  listenHost: string;
  listenPort: number;
  targetHost: string;
  targetPort: number;
}

function hostPort(text: string, what: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const host = m?.[1] ?? '';
  const port = Number(m?.[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535 || nodeNet.isIP(host) === 0) {
    throw new CliError(`--forward: ${what} must be IP:port (IPv6 as [IP]:port), not ${text}`);
  }
  return { host, port };
}

export function parseForward(text: string): ForwardSpec {
  const eq = text.indexOf('=');
  if (eq < 0) throw new CliError(`--forward ${text}: expected <listen>=<target>`);
  const listen = text.slice(0, eq);
  const target = hostPort(text.slice(eq + 1), 'the target');
  if (listen.startsWith('zt:')) {
    const port = Number(listen.slice(3));
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new CliError(`--forward ${text}: zt:<port> needs a port from 1 to 65535`);
    }
    return {
      text,
      fromZeroTier: true,
      listenHost: '',
      listenPort: port,
      targetHost: target.host,
      targetPort: target.port,
    };
  }
  const l = hostPort(listen, 'the listen side');
  return {
    text,
    fromZeroTier: false,
    listenHost: l.host,
    listenPort: l.port,
    targetHost: target.host,
    targetPort: target.port,
  };
}

type Closable = { close(): unknown };

/** Starts one forward; returns its listener so the caller can close it. */
export function startForward(
  spec: ForwardSpec,
  node: ZeroTierNode,
  report: (line: string) => void,
): Promise<Closable> {
  const pipe = (client: nodeNet.Socket | ReturnType<typeof ztNet.createConnection>) => {
    const target = spec.fromZeroTier
      ? nodeNet.createConnection({ host: spec.targetHost, port: spec.targetPort })
      : ztNet.createConnection({
          host: spec.targetHost,
          port: spec.targetPort,
          timeoutMs: 10_000,
          node,
        });
    client.on('error', () => target.destroy());
    target.on('error', (e: NodeJS.ErrnoException) => {
      report(`forward ${spec.text}: ${e.code ?? ''} ${e.message}`.trim());
      client.destroy();
    });
    client.pipe(target);
    target.pipe(client);
  };
  return new Promise((resolve, reject) => {
    if (spec.fromZeroTier) {
      const server = ztNet.createServer({ node }, pipe);
      server.once('error', (e: Error) =>
        reject(new CliError(`--forward ${spec.text}: ${e.message}`)),
      );
      server.listen(spec.listenPort, () => resolve(server));
    } else {
      const server = nodeNet.createServer(pipe);
      server.once('error', (e: Error) =>
        reject(new CliError(`--forward ${spec.text}: ${e.message}`)),
      );
      server.listen(spec.listenPort, spec.listenHost, () => resolve(server));
    }
  });
}
