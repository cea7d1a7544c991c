export { Identity, SIGNATURE_LENGTH, AGREED_KEY_LENGTH } from './identity.js';
export {
  LwipErr,
  errnoNumber,
  fromEngine,
  fromErrno,
  fromLwip,
  lwipErrnoName,
  systemError,
  type EngineErrorReport,
  type ErrorContext,
  type ZeroTierSystemError,
} from './errors.js';
export { addonPath } from './native.js';
export {
  NodeService,
  NodeRef,
  ZeroTierNode,
  classifyNat,
  type NodeOptions,
  type NodeCounters,
  type SocketCensus,
  type PeerInfo,
  type PathInfo,
  type NatType,
  type ExternalAddresses,
  type EchoResult,
} from './node.js';
export {
  NetworkLease,
  type NetworkDns,
  type NetworkInfo,
  type NetworkStatus,
  type NetworkRoute,
} from './network.js';
export {
  parsePlanet,
  readPlanetFile,
  makePlanet,
  earthPlanet,
  generatePlanetKey,
  type PlanetInfo,
  type PlanetRoot,
  type MakePlanetOptions,
} from './planet.js';

import { addon, type NativeVersions } from './native.js';

/** Versions of the native libraries the addon is built on. */
export function versions(): NativeVersions {
  return addon.versions();
}
export { net, type NetConnectOptions } from './net.js';
export { dgram, type DgramSocketOptions } from './dgram.js';
export { connect, listen, backoffDelays, type ConnectOptions } from './sockets/promises.js';
export { resolveSettings, readConfigFile, settingsEnv, type NodeSettings } from './node-config.js';
export type { DefaultNetwork } from './node-service.js';
export type { RateLimits, TrafficMetrics, NodeTrafficMetrics } from './sockets/traffic.js';
export {
  Socket,
  Server,
  type TcpConnectOptions,
  type SocketConnectOptions,
  type SocketOptions,
  type ListenOptions,
  type ServerOptions,
} from './sockets/tcp.js';
export {
  forward,
  Forwarder,
  parseForwardRule,
  type ForwardRule,
  type ForwardOptions,
  type ForwardedConnection,
} from './forward.js';
export {
  UdpSocket,
  type RemoteInfo,
  type UdpSocketOptions,
  type BindOptions,
  type SocketType,
} from './sockets/udp.js';
export { ZeroTierSocket, ZeroTierListener, type AcceptOptions } from './sockets/promises.js';
export {
  startLab,
  stopLab,
  LabClient,
  type LabHandle,
  type StartLabOptions,
} from './lab/client.js';
export { runningLab, type LabInfo } from './lab/files.js';
export { lookup, type LookupOptions } from './dns/lookup.js';
export { NetworkNames, type ResolvedAddress } from './dns/network-lookup.js';
export { type DnsError, type DnsErrorCode } from './dns/resolver.js';
