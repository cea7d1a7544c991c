/** A socket's idle timeout (Node's setTimeout on sockets): fires after that long idle. */
export class IdleTimer {
  #ms: number | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly onIdle: () => void) {}

  /** undefined until set; 0 turns it off. */
  get ms(): number | undefined {
    return this.#ms;
  }

  set(ms: number): void {
    this.#ms = ms;
    this.touch();
  }

  /** Activity: the idle period starts again. */
  touch(): void {
    this.stop();
    if (this.#ms) this.#timer = setTimeout(this.onIdle, this.#ms);
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
