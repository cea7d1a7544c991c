/**
 * From a captured link-layer frame to its UDP datagram: Ethernet (with VLAN tags), raw
 * IP, Linux cooked (SLL, SLL2) and BSD loopback framing; IPv4 and IPv6 (no extension
 * headers). Everything is bounds-checked: anything that is not a readable UDP datagram
 * yields null, so callers can skip it.
 */

/** The link types decodeFrame() reads, with the names users know them by. */
export const LINK_TYPES: ReadonlyMap<number, string> = new Map([
  [0, 'loopback (null)'],
  [1, 'Ethernet'],
  [101, 'raw IP'],
  [108, 'loopback (loop)'],
  [113, 'Linux cooked (SLL)'],
  [228, 'raw IPv4'],
  [229, 'raw IPv6'],
  [276, 'Linux cooked v2 (SLL2)'],
]);

export interface UdpDatagram {
  /** Source endpoint, "ip/port" as ZeroTier writes physical paths. */
  src: string;
  dst: string;
  payload: Uint8Array;
  /** Fewer bytes were captured than the datagram has (snap length or IP fragmentation). */
  truncated: boolean;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const VLAN_ETHERTYPES = new Set([0x8100, 0x88a8, 0x9100]);
const IP_PROTO_UDP = 17;

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function isIpEthertype(type: number): boolean {
  return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6;
}

function ethernet(frame: Uint8Array): Uint8Array | null {
  const v = view(frame);
  let offset = 12;
  while (offset + 2 <= frame.length && VLAN_ETHERTYPES.has(v.getUint16(offset))) offset += 4;
  if (offset + 2 > frame.length || !isIpEthertype(v.getUint16(offset))) return null;
  return frame.subarray(offset + 2);
}

/** The IP packet inside a frame of the given link type, or null. */
function networkLayer(linkType: number, frame: Uint8Array): Uint8Array | null {
  switch (linkType) {
    case 1:
      return ethernet(frame);
    case 101:
    case 228:
    case 229:
      return frame;
    case 0:
    case 108:
      // A 4-byte address family whose byte order depends on the capturing host: the IP
      // version nibble tells the same thing without guessing.
      return frame.length > 4 ? frame.subarray(4) : null;
    case 113:
      return frame.length > 16 && isIpEthertype(view(frame).getUint16(14))
        ? frame.subarray(16)
        : null;
    case 276:
      return frame.length > 20 && isIpEthertype(view(frame).getUint16(0))
        ? frame.subarray(20)
        : null;
    default:
      return null;
  }
}

function ipv4ToString(b: Uint8Array): string {
  return Array.from(b).join('.');
}

/** RFC 5952 form: lowercase, the longest run of two or more zero groups as "::". */
function ipv6ToString(b: Uint8Array): string {
  const v = view(b);
  const groups = Array.from({ length: 8 }, (_, i) => v.getUint16(i * 2));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function udp(
  segment: Uint8Array,
  srcIp: string,
  dstIp: string,
  ipFragment: boolean,
): UdpDatagram | null {
  if (segment.length < 8) return null;
  const v = view(segment);
  const length = v.getUint16(4);
  if (length < 8) return null; // 0 is an IPv6 jumbogram, which ZeroTier never sends
  return {
    src: `${srcIp}/${v.getUint16(0)}`,
    dst: `${dstIp}/${v.getUint16(2)}`,
    payload: segment.subarray(8, length),
    truncated: ipFragment || segment.length < length,
  };
}

function ipv4(p: Uint8Array): UdpDatagram | null {
  const v = view(p);
  const headerLen = (v.getUint8(0) & 0x0f) * 4;
  if (p.length < 20 || headerLen < 20 || headerLen > p.length) return null;
  if (v.getUint8(9) !== IP_PROTO_UDP) return null;
  const fragment = v.getUint16(6);
  if ((fragment & 0x1fff) !== 0) return null; // a later IP fragment: no UDP header
  const total = v.getUint16(2);
  if (total < headerLen) return null;
  // The total length, not the frame, bounds the packet: Ethernet pads short frames.
  const segment = p.subarray(headerLen, total);
  const moreFragments = (fragment & 0x2000) !== 0;
  return udp(
    segment,
    ipv4ToString(p.subarray(12, 16)),
    ipv4ToString(p.subarray(16, 20)),
    moreFragments,
  );
}

function ipv6(p: Uint8Array): UdpDatagram | null {
  if (p.length < 40) return null;
  const v = view(p);
  if (v.getUint8(6) !== IP_PROTO_UDP) return null;
  const segment = p.subarray(40, 40 + v.getUint16(4));
  return udp(segment, ipv6ToString(p.subarray(8, 24)), ipv6ToString(p.subarray(24, 40)), false);
}

/** The UDP datagram in a frame, or null when the frame holds none (or is unreadable). */
export function decodeFrame(linkType: number, frame: Uint8Array): UdpDatagram | null {
  const ip = networkLayer(linkType, frame);
  if (ip === null || ip.length === 0) return null;
  const version = view(ip).getUint8(0) >> 4;
  if (version === 4) return ipv4(ip);
  if (version === 6) return ipv6(ip);
  return null;
}
