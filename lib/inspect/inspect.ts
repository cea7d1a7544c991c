/**
 * The analysis behind `zerotier-sockets inspect`: what each captured UDP datagram is in
 * ZeroTier terms (protocol.md §2), and whether its MAC checks out with the keys at hand.
 *
 * The whole capture is read before anything is reported, so that:
 * - heads and fragments are put back together by packet id and destination wherever they
 *   sit in the capture (no 5 s timeout as in a live node), and the result for the whole
 *   packet is reported on each of its datagrams; pieces of packets that never complete
 *   are 'incomplete';
 * - identities announced in HELLOs anywhere in the capture serve for every packet, even
 *   those before the HELLO.
 */
import { Identity } from '../identity.js';
import { addon, type PacketInspection } from '../native.js';
import { KeyRing } from './keys.js';
import type { Datagram } from './pcap.js';

/**
 * What became of the MAC check: 'ok' / 'bad' with a key the identities give;
 * 'unknown-key' when no secret given belongs to either end or the other end's identity is
 * unknown; 'unsupported-cipher' for ciphers 2 and 3; 'incomplete' for pieces of a packet
 * whose other pieces are not in the capture; 'malformed' for datagrams no node accepts;
 * 'truncated' when the capture holds only part of the datagram; 'none' for beacons.
 */
export type MacCheck =
  | 'ok'
  | 'bad'
  | 'unknown-key'
  | 'unsupported-cipher'
  | 'incomplete'
  | 'malformed'
  | 'truncated'
  | 'none';

/** Piece `number` of `total`; the head is number 0, and its total is known from a fragment. */
export interface FragmentInfo {
  number: number;
  total: number | null;
}

export interface InspectedDatagram {
  time: string;
  /** UDP endpoints, "ip/port". */
  src: string;
  dst: string;
  /** ZeroTier addresses (10 hex digits); a fragment's source is its head's. */
  srcAddress: string | null;
  dstAddress: string | null;
  fragment: FragmentInfo | null;
  /** The cipher suite (0..7); a fragment's is its head's. */
  cipher: number | null;
  /** The verb's name: known for cipher 0, or when the MAC checked out. BEACON for beacons. */
  verb: string | null;
  mac: MacCheck;
  /** 'lz4' when the payload was compressed, 'lz4-invalid' when it does not inflate. */
  compression: 'lz4' | 'lz4-invalid' | null;
}

// Layout of packets and fragments (protocol.md §2.1, §2.6, §3.1).
const HEADER_LEN = 28;
const IDX_DEST = 8;
const IDX_SOURCE = 13;
const IDX_FLAGS = 18;
const IDX_VERB = 27;
const ADDRESS_LEN = 5;
const FLAG_FRAGMENTED = 0x40;
const FRAGMENT_HEADER_LEN = 16;
const IDX_FRAGMENT_INDICATOR = 13;
const IDX_FRAGMENT_COUNTS = 14;
const MAX_PIECES = 7;
const BEACON_LEN = 13;
const VERB_HELLO = 0x01;
const HELLO_IDENTITY_OFFSET = HEADER_LEN + 13;
const IDENTITY_BINARY_LEN = 71;
const NO_KEY = new Uint8Array(48);

/** A whole packet, as sent or reassembled, with the datagrams that carried it. */
interface Packet {
  bytes: Uint8Array;
  rows: InspectedDatagram[];
}

/** The pieces of one fragmented packet seen so far. */
interface Assembly {
  head: Uint8Array | null;
  total: number | null;
  fragments: Map<number, Uint8Array>;
  rows: InspectedDatagram[];
}

const byte = (p: Uint8Array, i: number): number => p[i] ?? 0;
const hex = (p: Uint8Array): string =>
  Buffer.from(p.buffer, p.byteOffset, p.length).toString('hex');
const address = (p: Uint8Array, at: number): string => hex(p.subarray(at, at + ADDRESS_LEN));
const cipherOf = (packet: Uint8Array): number => (byte(packet, IDX_FLAGS) >> 3) & 0x07;
const isFragment = (p: Uint8Array): boolean =>
  p.length > FRAGMENT_HEADER_LEN && byte(p, IDX_FRAGMENT_INDICATOR) === 0xff;

/** The fields a datagram's own header shows, before any reassembly or key. */
function describe(d: Datagram): InspectedDatagram {
  const p = d.payload;
  const row: InspectedDatagram = {
    time: d.time,
    src: d.src,
    dst: d.dst,
    srcAddress: null,
    dstAddress: null,
    fragment: null,
    cipher: null,
    verb: null,
    mac: 'malformed',
    compression: null,
  };
  if (p.length === BEACON_LEN) {
    row.verb = 'BEACON';
    row.mac = 'none';
  } else if (isFragment(p)) {
    row.dstAddress = address(p, IDX_DEST);
    const counts = byte(p, IDX_FRAGMENT_COUNTS);
    row.fragment = { number: counts & 0x0f, total: counts >> 4 };
  } else if (p.length >= HEADER_LEN) {
    row.dstAddress = address(p, IDX_DEST);
    row.srcAddress = address(p, IDX_SOURCE);
    row.cipher = cipherOf(p);
    if ((byte(p, IDX_FLAGS) & FLAG_FRAGMENTED) !== 0) row.fragment = { number: 0, total: null };
  }
  return row;
}

/** Copies what the head tells onto every piece's row. */
function shareHead(a: Assembly): void {
  for (const row of a.rows) {
    if (row.fragment !== null) row.fragment.total ??= a.total;
    if (a.head === null) continue;
    row.srcAddress ??= address(a.head, IDX_SOURCE);
    row.cipher ??= cipherOf(a.head);
  }
}

class Reassembly {
  readonly #open = new Map<string, Assembly>();

  /** Adds a head (number 0) or fragment; returns the packet when this piece completes it. */
  add(p: Uint8Array, row: InspectedDatagram, number: number, total: number | null): Packet | null {
    // Heads and fragments both start with the packet id and the destination.
    const key = hex(p.subarray(0, IDX_DEST + ADDRESS_LEN));
    let a = this.#open.get(key);
    if (a === undefined) {
      a = { head: null, total: null, fragments: new Map(), rows: [] };
      this.#open.set(key, a);
    }
    if (total !== null && a.total !== null && total !== a.total) return null; // stays malformed
    a.total ??= total;
    a.rows.push(row);
    if (number === 0) a.head ??= p;
    else if (!a.fragments.has(number)) a.fragments.set(number, p.subarray(FRAGMENT_HEADER_LEN));
    if (a.head === null || a.total === null || a.fragments.size < a.total - 1) return null;
    this.#open.delete(key);
    shareHead(a);
    const pieces = [...a.fragments.entries()].sort(([x], [y]) => x - y).map(([, data]) => data);
    return { bytes: Buffer.concat([a.head, ...pieces]), rows: a.rows };
  }

  /** Marks the pieces of packets that never completed. */
  finish(): void {
    for (const a of this.#open.values()) {
      shareHead(a);
      for (const row of a.rows) row.mac = 'incomplete';
    }
    this.#open.clear();
  }
}

/** Splits the capture into whole packets, describing every datagram on the way. */
function assemble(datagrams: readonly Datagram[]): {
  rows: InspectedDatagram[];
  packets: Packet[];
} {
  const rows: InspectedDatagram[] = [];
  const packets: Packet[] = [];
  const reassembly = new Reassembly();
  for (const d of datagrams) {
    const row = describe(d);
    rows.push(row);
    const p = d.payload;
    let packet: Packet | null = null;
    if (d.truncated) {
      row.mac = 'truncated';
    } else if (p.length === BEACON_LEN) {
      continue;
    } else if (isFragment(p)) {
      const counts = byte(p, IDX_FRAGMENT_COUNTS);
      const [number, total] = [counts & 0x0f, counts >> 4];
      // Stock limits (§2.6), plus number < total: a piece beyond the total never completes.
      const valid = number >= 1 && number < MAX_PIECES && total <= MAX_PIECES && number < total;
      if (valid) packet = reassembly.add(p, row, number, total);
    } else if (p.length < HEADER_LEN) {
      continue; // stays malformed
    } else if (row.fragment !== null) {
      packet = reassembly.add(p, row, 0, null);
    } else {
      packet = { bytes: p, rows: [row] };
    }
    if (packet !== null) packets.push(packet);
  }
  reassembly.finish();
  return { rows, packets };
}

/** A cipher-0 HELLO carries its sender's public identity (protocol.md §3.1). */
function learnFromHello(packet: Uint8Array, ring: KeyRing): void {
  const end = HELLO_IDENTITY_OFFSET + IDENTITY_BINARY_LEN;
  if (packet.length < end || cipherOf(packet) !== 0 || byte(packet, IDX_VERB) !== VERB_HELLO) {
    return;
  }
  let identity: Identity;
  try {
    identity = Identity.fromBinary(packet.subarray(HELLO_IDENTITY_OFFSET, end));
  } catch {
    return; // not an identity: the HELLO is malformed, and its MAC check will say so
  }
  if (identity.address === address(packet, IDX_SOURCE)) ring.learn(identity);
}

function check(packet: Packet, ring: KeyRing): void {
  const { bytes } = packet;
  const cipher = cipherOf(bytes);
  let mac: MacCheck = 'unsupported-cipher';
  let verb: string | null = null;
  let compression: InspectedDatagram['compression'] = null;
  if (cipher === 0 || cipher === 1) {
    const keys = ring.keysBetween(address(bytes, IDX_SOURCE), address(bytes, IDX_DEST));
    if (keys.length === 0) {
      mac = 'unknown-key';
      // Cipher 0 leaves the verb in clear: any key reads it (the MAC then fails).
      if (cipher === 0) verb = addon.inspectPacket(bytes, NO_KEY).verb ?? null;
    } else {
      const result = checkWithKeys(bytes, keys);
      mac = result.mac;
      verb = result.verb ?? null;
      if (result.compressed === true) compression = result.inflateFailed ? 'lz4-invalid' : 'lz4';
    }
  }
  for (const row of packet.rows) {
    row.mac = mac;
    row.verb = verb;
    row.compression = compression;
  }
}

/** The first key the MAC checks out with; else what the last key gave. */
function checkWithKeys(bytes: Uint8Array, keys: readonly Buffer[]): PacketInspection {
  let result: PacketInspection = { mac: 'bad' };
  for (const key of keys) {
    result = addon.inspectPacket(bytes, key);
    if (result.mac === 'ok') break;
  }
  return result;
}

/**
 * Inspects the datagrams of a capture with the given identities (secret ones give keys;
 * public ones, like those learned from HELLOs, name the other end). One result per
 * datagram, in capture order.
 */
export function inspectCapture(
  datagrams: readonly Datagram[],
  identities: readonly Identity[],
): InspectedDatagram[] {
  const { rows, packets } = assemble(datagrams);
  const ring = new KeyRing(identities);
  for (const packet of packets) learnFromHello(packet.bytes, ring);
  for (const packet of packets) check(packet, ring);
  return rows;
}
