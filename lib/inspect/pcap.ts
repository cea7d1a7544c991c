/**
 * A reader of classic pcap captures (libpcap's format, not pcapng): either byte order,
 * microsecond or nanosecond timestamps. It yields the UDP datagrams of the capture, in
 * order; other traffic is skipped. Every read is bounds-checked: a malformed header
 * throws PcapError, and a truncated record ends the read with the error kept beside
 * what was read before it.
 */
import { decodeFrame, LINK_TYPES } from './frames.js';

export class PcapError extends Error {
  override name = 'PcapError';
}

export interface Datagram {
  /** 1-based number of the record in the capture, counting every record. */
  record: number;
  /** Capture time: ISO 8601 UTC with the file's precision (6 or 9 fraction digits). */
  time: string;
  /** Source endpoint, "ip/port". */
  src: string;
  dst: string;
  payload: Uint8Array;
  /** Fewer bytes were captured than the datagram has (snap length or IP fragmentation). */
  truncated: boolean;
}

export interface PcapCapture {
  linkType: number;
  datagrams: Datagram[];
  /** Set when the file ends inside a record: the read stopped there. */
  error?: PcapError;
}

const GLOBAL_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;

interface Format {
  littleEndian: boolean;
  nanoseconds: boolean;
}

// The magic number as read little-endian: its byte order tells the file's.
const MAGICS = new Map<number, Format>([
  [0xa1b2c3d4, { littleEndian: true, nanoseconds: false }],
  [0xd4c3b2a1, { littleEndian: false, nanoseconds: false }],
  [0xa1b23c4d, { littleEndian: true, nanoseconds: true }],
  [0x4d3cb2a1, { littleEndian: false, nanoseconds: true }],
]);
const PCAPNG_MAGIC = 0x0a0d0d0a;

function formatTime(seconds: number, fraction: number, nanoseconds: boolean): string {
  const unit = nanoseconds ? 1_000_000_000 : 1_000_000;
  const whole = seconds + Math.floor(fraction / unit);
  const digits = String(fraction % unit).padStart(nanoseconds ? 9 : 6, '0');
  return new Date(whole * 1000).toISOString().replace(/\.\d{3}Z$/, `.${digits}Z`);
}

function readHeader(data: Uint8Array, v: DataView): Format & { linkType: number } {
  if (data.length < 4) throw new PcapError('not a pcap capture: the file is too short');
  const magic = v.getUint32(0, true);
  if (magic === PCAPNG_MAGIC) {
    throw new PcapError(
      'a pcapng capture: only classic pcap is read (convert it with `editcap -F pcap`)',
    );
  }
  const format = MAGICS.get(magic);
  if (format === undefined) throw new PcapError('not a pcap capture: unknown magic number');
  if (data.length < GLOBAL_HEADER_LEN) throw new PcapError('the pcap file header is truncated');
  // The low 16 bits are the link type; higher bits describe frame check sequences.
  const linkType = v.getUint32(20, format.littleEndian) & 0xffff;
  if (!LINK_TYPES.has(linkType)) {
    throw new PcapError(
      `link type ${linkType} is not supported (read: ${[...LINK_TYPES.values()].join(', ')})`,
    );
  }
  return { ...format, linkType };
}

/** Reads a capture held in memory. Throws PcapError when its file header is not pcap's. */
export function parsePcap(data: Uint8Array): PcapCapture {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const { littleEndian, nanoseconds, linkType } = readHeader(data, v);
  const capture: PcapCapture = { linkType, datagrams: [] };
  let offset = GLOBAL_HEADER_LEN;
  for (let record = 1; offset < data.length; record++) {
    const left = data.length - offset;
    if (left < RECORD_HEADER_LEN) {
      capture.error = new PcapError(
        `record ${record} is truncated: the file ends ${left} bytes into its 16-byte header`,
      );
      break;
    }
    const seconds = v.getUint32(offset, littleEndian);
    const fraction = v.getUint32(offset + 4, littleEndian);
    const length = v.getUint32(offset + 8, littleEndian);
    offset += RECORD_HEADER_LEN;
    if (length > data.length - offset) {
      capture.error = new PcapError(
        `record ${record} is truncated: it announces ${length} bytes, ` +
          `the file holds ${data.length - offset} more`,
      );
      break;
    }
    const frame = data.subarray(offset, offset + length);
    offset += length;
    const udp = decodeFrame(linkType, frame);
    if (udp !== null) {
      capture.datagrams.push({ record, time: formatTime(seconds, fraction, nanoseconds), ...udp });
    }
  }
  return capture;
}
