/** Exit codes of `scf` and the error type that carries one. */
export const EXIT = {
  OK: 0,
  /** The API refused the request (4xx): its message is printed. */
  REFUSED: 1,
  /** Bad command line, bad input file, missing configuration. */
  USAGE: 2,
  /** Could not sign in: no key, wrong password, login refused, session rejected. */
  AUTH: 3,
  /** The service could not be reached, or answered 5xx. */
  UNREACHABLE: 4,
  /** A signed act was relayed but failed on-chain. */
  ACT_FAILED: 5,
  /** Interrupted (Ctrl-C); run the same command again to resume. */
  INTERRUPTED: 130,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const usage = (m: string) => new CliError(m, EXIT.USAGE);
