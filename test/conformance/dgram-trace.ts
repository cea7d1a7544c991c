// What the dgram conformance cases record and how: an app's view of a socket (events in
// order with their arguments, thrown and reported errors with the peer's address shown as
// PEER, datagrams apart from callback timing), and small waits on events.
import type { EventEmitter } from 'node:events';

/** What a case needs: the module under test and where the peer listens. */
export interface DgramEnv {
  dgram: {
    createSocket(type: unknown, listener?: (...a: unknown[]) => void): DgramSocket;
    Socket: unknown;
  };
  peer: string;
  echoPort: number;
  controlPort: number;
}

/** The members the cases use, typed loosely: they also feed wrong arguments. */
export interface DgramSocket extends EventEmitter {
  bind(...args: unknown[]): DgramSocket;
  connect(...args: unknown[]): DgramSocket;
  disconnect(): void;
  send(...args: unknown[]): void;
  close(cb?: () => void): DgramSocket;
  address(): { address: string; family: string; port: number };
  remoteAddress(): { address: string; family: string; port: number };
  setBroadcast(flag: unknown): void;
  setTTL(ttl: unknown): number;
  setMulticastTTL(ttl: unknown): number;
  setMulticastInterface(address: unknown): void;
  setMulticastLoopback(flag: unknown): boolean;
  addMembership(...args: unknown[]): void;
  dropMembership(...args: unknown[]): void;
  getRecvBufferSize(): number;
  getSendQueueCount(): number;
  ref(): DgramSocket;
  unref(): DgramSocket;
  [Symbol.asyncDispose](): Promise<void>;
}

export type Trace = unknown[];

/** An error as an app sees it, with the peer's address shown as PEER. */
export function describeError(e: unknown, env: DgramEnv): Record<string, unknown> {
  const err = e as Error & Record<string, unknown>;
  const out: Record<string, unknown> = {
    name: err.name,
    code: err.code,
    message: String(err.message).split(env.peer).join('PEER'),
  };
  for (const k of ['syscall', 'errno', 'hostname'] as const) if (k in err) out[k] = err[k];
  if ('address' in err) out['address'] = err['address'] === env.peer ? 'PEER' : err['address'];
  if ('port' in err) out['port'] = err['port'] === env.echoPort ? 'ECHO' : err['port'];
  if (typeof out['message'] === 'string') {
    out['message'] = out['message'].replace(`:${env.echoPort}`, ':ECHO');
  }
  return out;
}

/** Runs `f`, giving its result or the error it threw. */
export function attempt(env: DgramEnv, f: () => unknown): unknown {
  try {
    const r = f();
    return { returned: r === undefined || typeof r !== 'object' ? r : 'object' };
  } catch (e) {
    return { threw: describeError(e, env) };
  }
}

/** Records a socket's events (in order) into the trace. */
export function watch(s: DgramSocket, trace: Trace, env: DgramEnv, label = ''): void {
  for (const name of ['listening', 'connect', 'close', 'error'] as const) {
    s.on(name, (arg?: unknown) =>
      trace.push(name === 'error' ? [`${label}error`, describeError(arg, env)] : `${label}${name}`),
    );
  }
  // Datagrams are kept apart and sorted at the end (see done()): when an echo arrives
  // relative to a send's callback is a matter of latency, not of behaviour.
  s.on(
    'message',
    (msg: Buffer, rinfo: { address: string; family: string; port: number; size: number }) =>
      messagesOf(trace).push([
        `${label}message`,
        msg.toString(),
        {
          ...rinfo,
          address: rinfo.address.split(env.peer).join('PEER'),
          port:
            rinfo.port === env.echoPort
              ? 'ECHO'
              : rinfo.port === env.controlPort
                ? 'CONTROL'
                : 'OTHER',
        },
      ]),
  );
}

const datagrams = new WeakMap<Trace, unknown[]>();

export function messagesOf(trace: Trace): unknown[] {
  let list = datagrams.get(trace);
  if (list === undefined) datagrams.set(trace, (list = []));
  return list;
}

/** The trace, then the datagrams it saw in a stable order. */
export function done(trace: Trace): Trace {
  const seen = messagesOf(trace).map((m) => JSON.stringify(m));
  return [...trace, 'datagrams:', ...seen.sort()];
}

export const settle = (ms = 50) => new Promise((r) => setTimeout(r, ms));

export function until(s: EventEmitter, event: string, timeoutMs = 5000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} in ${timeoutMs} ms`)), timeoutMs);
    s.once(event, (...args: unknown[]) => {
      clearTimeout(t);
      resolve(args);
    });
  });
}

/** Messages until `count` have come, in arrival order (a lost datagram fails the case). */
export function messages(s: EventEmitter, count: number, timeoutMs = 5000): Promise<string[]> {
  const got: string[] = [];
  return new Promise((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`only ${got.length}/${count} datagrams`)),
      timeoutMs,
    );
    const on = (m: Buffer) => {
      got.push(m.toString());
      if (got.length === count) {
        clearTimeout(t);
        s.off('message', on);
        resolve(got);
      }
    };
    s.on('message', on);
  });
}

export function sendWithCallback(s: DgramSocket, ...args: unknown[]): Promise<unknown[]> {
  return new Promise((resolve) =>
    s.send(...args, (...cbArgs: unknown[]) =>
      resolve(cbArgs.map((a) => (a instanceof Error ? 'ERROR' : a))),
    ),
  );
}
