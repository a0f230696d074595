/**
 * Every error the agent raises, declared once. Callers match on `code`, never on the message.
 * Codes are documented in docs/errors.md; a test keeps the two in step.
 */

/**
 * Bounded reasons a source run fails, used as the `reason` label on
 * `outrigger_source_errors_total` and shown in `/api/targets`. Never extend this from input.
 */
export const FAILURE_REASONS = [
  'timeout',
  'refused',
  'reset',
  'dns',
  'tls',
  'http_status',
  'body_mismatch',
  'body_too_large',
  'invalid_json',
  'contract_mismatch',
  'mapping',
  'too_many_series',
  'not_found',
  'auth',
  'query',
  'network',
  'internal'
] as const

export type FailureReason = typeof FAILURE_REASONS[number]

/** The agent's one error type; `code` is stable, the message names the offending value. */
export class OutriggerError extends Error {
  readonly code: string
  constructor (code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'OutriggerError'
    this.code = code
  }
}

/** Every error code with what it means and what to do; docs/errors.md mirrors this table. */
export const ERROR_CODES = {
  OUTRIGGER_ERR_CONFIG_INVALID: 'The configuration file failed validation; every problem is listed with its path.',
  OUTRIGGER_ERR_CONFIG_READ: 'The configuration file could not be read (missing, unreadable, or not YAML).',
  OUTRIGGER_ERR_CONFIG_ENV: 'A `${VAR}` in the configuration names an unset variable with no default.',
  OUTRIGGER_ERR_USAGE: 'The command line is wrong: unknown command or flag, or a missing value.',
  OUTRIGGER_ERR_MAPPING_INVALID: 'A JSON mapping rule is invalid (metric or label name, JSONPath, type, valueMap); the message names the rule index and field.',
  OUTRIGGER_ERR_TRACING_ENV: 'An OpenTelemetry environment variable (`OTEL_*`) holds a value the agent cannot use; the message names the variable and its value.'
} as const

export type ErrorCode = keyof typeof ERROR_CODES
