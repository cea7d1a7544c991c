import type { EventEmitter } from 'node:events';

/** Resolves with the first `event` whose arguments pass `filter`; rejects after `timeoutMs`. */
export function nextEvent<T = unknown>(
  emitter: EventEmitter,
  event: string,
  options: { timeoutMs?: number; filter?: (value: T) => boolean } = {},
): Promise<T> {
  const { timeoutMs = 10_000, filter = () => true } = options;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no '${event}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (value: T) => {
      if (!filter(value)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(value);
    };
    emitter.on(event, listener);
  });
}

/** Polls `check` until it returns a value other than undefined/false, or times out. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
