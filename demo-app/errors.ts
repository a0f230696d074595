/**
 * Every error the demo app raises, declared once. Each one becomes the JSON error body
 * `{ statusCode, error, code, message, field? }`; clients match on `code`, never on the message.
 * docs/demo-app.md lists the same codes.
 */

/** Every demo-app error code with its HTTP status and meaning. */
export const DEMO_ERROR_CODES = {
  DEMO_ERR_CONFIG_INVALID: { status: 500, meaning: 'The environment failed validation; every bad variable is named.' },
  DEMO_ERR_VALIDATION: { status: 400, meaning: 'A request field is missing, of the wrong type, out of range or unknown; `field` names it.' },
  DEMO_ERR_BAD_REQUEST: { status: 400, meaning: 'The request cannot be read: invalid JSON, an empty body, a malformed header or URL (414 for a path parameter over 100 characters).' },
  DEMO_ERR_BODY_TOO_LARGE: { status: 413, meaning: 'The request body is larger than the body limit.' },
  DEMO_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'The request body is not `application/json`.' },
  DEMO_ERR_ROUTE_NOT_FOUND: { status: 404, meaning: 'No route matches the method and path.' },
  DEMO_ERR_ITEM_NOT_FOUND: { status: 404, meaning: 'No catalogue item has this id.' },
  DEMO_ERR_SKU_CONFLICT: { status: 409, meaning: 'Another catalogue item already has this SKU.' },
  DEMO_ERR_DB_UNAVAILABLE: { status: 503, meaning: 'The database refused, dropped or failed the connection; the message carries the reason.' },
  DEMO_ERR_DB_TIMEOUT: { status: 503, meaning: 'A database statement ran past the statement timeout and was cancelled.' },
  DEMO_ERR_DB_ACQUIRE_TIMEOUT: { status: 503, meaning: 'No database connection became free within the acquire timeout (pool exhausted or database unreachable).' },
  DEMO_ERR_UPSTREAM_FAILED: { status: 502, meaning: 'The upstream refused the connection, reset it, answered 5xx, or sent an unreadable or oversized body.' },
  DEMO_ERR_UPSTREAM_TIMEOUT: { status: 504, meaning: 'The upstream did not answer within the upstream timeout.' },
  DEMO_ERR_SHUTTING_DOWN: { status: 503, meaning: 'The server is closing and takes no new requests.' },
  DEMO_ERR_INTERNAL: { status: 500, meaning: 'A bug: an unexpected error; the log has the details.' }
} as const

/** A demo-app error code. */
export type DemoErrorCode = keyof typeof DEMO_ERROR_CODES

/** The demo app's one error type: a stable `code`, the HTTP status it maps to, and `cause`. */
export class DemoAppError extends Error {
  readonly code: DemoErrorCode
  readonly statusCode: number
  /** The request field at fault, for validation errors (`priceCents`, `limit`, `id`). */
  readonly field: string | undefined

  constructor (code: DemoErrorCode, message: string, options?: { cause?: unknown, field?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'DemoAppError'
    this.code = code
    this.statusCode = DEMO_ERROR_CODES[code].status
    this.field = options?.field
  }
}

/** The JSON body of every error response. */
export interface ErrorBody {
  statusCode: number
  /** The HTTP reason phrase, such as `Bad Request`. */
  error: string
  code: DemoErrorCode
  message: string
  field?: string
}
