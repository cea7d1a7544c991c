import dgram from 'node:dgram';

/** A UDP port that was free a moment ago on 127.0.0.1 (the kernel picked it). */
export async function freeLoopbackPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
