/**
 * @module
 * The shape of an `assenso <command>`: one file per command in this folder, registered in `../cli.ts`.
 */

export interface CliContext {
  /** Arguments after the command name. */
  argv: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /**
   * Resolves when the process is asked to stop (SIGINT/SIGTERM); long-running commands (serve) wait on it.
   */
  stopSignal: Promise<string>;
}

export interface Command {
  /** One line for `assenso help`. */
  summary: string;
  /** Usage text for `assenso <name> --help`. */
  usage: string;
  /** Runs the command; resolves with the exit code. Throw `UsageError` for bad arguments (exit 2). */
  run(ctx: CliContext): Promise<number>;
}

/** Bad command-line arguments: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
