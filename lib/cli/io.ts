/** Small helpers shared by the CLI's commands: clean failures and plain output. */

/** A failure the CLI reports as one line on stderr, with an exit code and no stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

let stdoutGuarded = false;

/** A reader that goes away (`| head`) ends the command quietly, as it ends other tools. */
function guardStdout(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit();
  });
}

export const processIo: CliIo = {
  out: (text) => {
    guardStdout();
    process.stdout.write(text);
  },
  err: (text) => process.stderr.write(text),
};

/** Resolves at the first SIGINT or SIGTERM (a foreground command's stop). */
export function onceInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
