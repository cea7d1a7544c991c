/**
 * How a TCP socket notices a peer that went away: keep-alive probes on an idle connection
 * (with node:net's timings) and the dead-peer timeout on a connection with bytes in flight
 * (ours; Linux's TCP_USER_TIMEOUT is the nearest kernel knob). Both fail the socket with
 * `ETIMEDOUT`, as Linux does when its retransmissions or keep-alive probes go unanswered.
 */
import { validateInteger } from '../validate.js';

/** The longest dead-peer timeout: lwIP's own give-up (hours) must never come first. */
export const MAX_DEAD_PEER_TIMEOUT_MS = 60 * 60 * 1000;

/** Checks a dead-peer timeout in ms (an integer from 1 ms to 1 hour) and returns it. */
export function checkDeadPeerTimeout(value: unknown, name: string): number {
  validateInteger(value, name, 1, MAX_DEAD_PEER_TIMEOUT_MS);
  return value;
}

export interface KeepAliveTimes {
  idleMs: number;
  intervalMs: number;
  count: number;
}

/**
 * The probe timings node:net gives `setKeepAlive(true, initialDelay)` on Linux (Node 20,
 * libuv 1.46, as strace shows): an initialDelay of a second or more becomes the idle time
 * in whole seconds, then probes every second, 10 of them; below a second the idle time is
 * refused by the kernel and its defaults stay (2 hours, 75 s, 9 probes). The connection
 * fails after idle + count x interval of silence.
 */
export function keepAliveTimes(initialDelayMs: number): KeepAliveTimes {
  const seconds = Math.floor(initialDelayMs / 1000);
  if (seconds >= 1) return { idleMs: seconds * 1000, intervalMs: 1000, count: 10 };
  return { idleMs: 7200 * 1000, intervalMs: 75 * 1000, count: 9 };
}
