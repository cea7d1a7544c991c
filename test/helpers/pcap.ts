/**
 * Builds pcap captures for tests, written from the file format independently of
 * lib/inspect/pcap.ts so that each checks the other. IP checksums are left zero
 * (readers do not check them).
 */

export interface CaptureOptions {
  linkType: number;
  bigEndian?: boolean;
  nanoseconds?: boolean;
}

export interface CaptureRecord {
  seconds: number;
  /** Microseconds, or nanoseconds with `nanoseconds`. */
  fraction?: number;
  frame: Uint8Array;
}

export function pcapFile(options: CaptureOptions, records: readonly CaptureRecord[]): Buffer {
  const le = !options.bigEndian;
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    if (le) b.writeUInt32LE(n);
    else b.writeUInt32BE(n);
    return b;
  };
  const u16 = (n: number) => {
    const b = Buffer.alloc(2);
    if (le) b.writeUInt16LE(n);
    else b.writeUInt16BE(n);
    return b;
  };
  const parts = [
    u32(options.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4),
    u16(2),
    u16(4),
    u32(0),
    u32(0),
    u32(262144),
    u32(options.linkType),
  ];
  for (const r of records) {
    parts.push(u32(r.seconds), u32(r.fraction ?? 0), u32(r.frame.length), u32(r.frame.length));
    parts.push(Buffer.from(r.frame));
  }
  return Buffer.concat(parts);
}

export interface Endpoint {
  ip: string;
  port: number;
}

function udp(src: Endpoint, dst: Endpoint, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(src.port, 0);
  h.writeUInt16BE(dst.port, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

export function ipv4Udp(src: Endpoint, dst: Endpoint, payload: Uint8Array): Buffer {
  const segment = udp(src, dst, payload);
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + segment.length, 2);
  h[8] = 64;
  h[9] = 17;
  Buffer.from(src.ip.split('.').map(Number)).copy(h, 12);
  Buffer.from(dst.ip.split('.').map(Number)).copy(h, 16);
  return Buffer.concat([h, segment]);
}

/** Full (uncompressed) IPv6 text only: eight groups. */
function ipv6Bytes(text: string): Buffer {
  const b = Buffer.alloc(16);
  text.split(':').forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

export function ipv6Udp(src: Endpoint, dst: Endpoint, payload: Uint8Array): Buffer {
  const segment = udp(src, dst, payload);
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(segment.length, 4);
  h[6] = 17;
  h[7] = 64;
  ipv6Bytes(src.ip).copy(h, 8);
  ipv6Bytes(dst.ip).copy(h, 24);
  return Buffer.concat([h, segment]);
}

/** An Ethernet frame, padded to the 60-byte minimum as NICs pad short frames. */
export function ethernet(ip: Uint8Array, options: { vlan?: number } = {}): Buffer {
  const type = (ip[0]! >> 4 === 6 ? 0x86dd : 0x0800).toString(16).padStart(4, '0');
  const macs = Buffer.from('020000000001' + '020000000002', 'hex'); // destination, source
  const vlan =
    options.vlan === undefined ? '' : `8100${options.vlan.toString(16).padStart(4, '0')}`;
  const frame = Buffer.concat([macs, Buffer.from(vlan + type, 'hex'), ip]);
  return frame.length >= 60 ? frame : Buffer.concat([frame, Buffer.alloc(60 - frame.length)]);
}

/** Linux cooked capture v1 (16-byte header, protocol at the end). */
export function sll(ip: Uint8Array): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(1, 2); // ARPHRD_ETHER
  h.writeUInt16BE(6, 4);
  h.writeUInt16BE(ip[0]! >> 4 === 6 ? 0x86dd : 0x0800, 14);
  return Buffer.concat([h, ip]);
}

/** Linux cooked capture v2 (20-byte header, protocol first). */
export function sll2(ip: Uint8Array): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(ip[0]! >> 4 === 6 ? 0x86dd : 0x0800, 0);
  h.writeUInt16BE(1, 8); // ARPHRD_ETHER
  h[11] = 6;
  return Buffer.concat([h, ip]);
}

/** BSD loopback: the address family in the capturing host's order (here little-endian). */
export function loopback(ip: Uint8Array): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32LE(ip[0]! >> 4 === 6 ? 30 : 2);
  return Buffer.concat([h, ip]);
}
