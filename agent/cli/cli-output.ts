/**
 * Where commands write, and how failures are shown: a user's mistake as plain lines (every config
 * problem as `file:line:col path: message`), never a stack trace.
 */
import { ConfigError, formatConfigProblem } from '../config/index.ts'
import { OutriggerError } from '../errors.ts'
import { EXIT_FAILURE, EXIT_USAGE } from './exit-codes.ts'

/** The two streams a command writes to; `main.ts` binds them to stdout and stderr. */
export interface CliOutput {
  out (text: string): void
  err (text: string): void
}

/** Codes that mean the user's input is wrong (exit 2), as opposed to a runtime failure (exit 1). */
const USER_ERROR_CODES = new Set(['OUTRIGGER_ERR_USAGE', 'OUTRIGGER_ERR_CONFIG_READ', 'OUTRIGGER_ERR_CONFIG_INVALID', 'OUTRIGGER_ERR_CONFIG_ENV'])

/**
 * Writes `error` to stderr for people and returns the exit code it calls for: 2 for usage and
 * config errors, 1 for anything else.
 */
export function reportFailure (error: unknown, output: CliOutput): number {
  if (error instanceof ConfigError) {
    const [only] = error.problems
    if (error.problems.length === 1 && only !== undefined && only.line === undefined) {
      // Nothing to point at (a missing file): one line says it all.
      output.err(`outrigger: ${only.message}\n`)
      return EXIT_USAGE
    }
    for (const problem of error.problems) output.err(`${formatConfigProblem(problem)}\n`)
    output.err(`outrigger: ${error.message.split('\n')[0]?.replace(/:$/, '') ?? ''}\n`)
    return EXIT_USAGE
  }
  if (error instanceof OutriggerError && error.code === 'OUTRIGGER_ERR_USAGE') {
    output.err(`outrigger: ${error.message}\nRun \`outrigger --help\` for usage.\n`)
    return EXIT_USAGE
  }
  const message = error instanceof Error ? error.message : String(error)
  output.err(`outrigger: ${message}\n`)
  return error instanceof OutriggerError && USER_ERROR_CODES.has(error.code) ? EXIT_USAGE : EXIT_FAILURE
}
