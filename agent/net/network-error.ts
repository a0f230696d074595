/**
 * Maps a Node.js socket, DNS or TLS error onto the bounded {@link FailureReason} set, so every
 * probe (HTTP, TCP, Postgres) labels the same fault the same way.
 */
import type { FailureReason } from '../errors.ts'

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME'])
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET'])
const TIMEOUT_CODES = new Set(['ABORT_ERR', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT'])
/**
 * OpenSSL verification results surface as bare codes (`DEPTH_ZERO_SELF_SIGNED_CERT`,
 * `CERT_HAS_EXPIRED`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, …); Node's own TLS errors as `ERR_TLS_*`
 * and `ERR_SSL_*`; a handshake the peer rejects as `EPROTO`.
 */
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|EPROTO$)|CERT|SELF_SIGNED|UNABLE_TO_|HOSTNAME_MISMATCH/

/**
 * The error's `code`, looking inside an `AggregateError` (Node's happy-eyeballs connect reports one
 * error per address tried).
 */
export function errorCode (error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') return code
  const inner = (error as { errors?: unknown }).errors
  if (Array.isArray(inner) && inner.length > 0) return errorCode(inner[0])
  return undefined
}

/**
 * The failure reason for a transport error: `dns`, `refused`, `reset`, `tls`, `timeout`, or
 * `network` for anything else. Callers that know their own deadline passed should report `timeout`
 * themselves rather than rely on the error (a destroyed socket may surface as a reset).
 */
export function networkFailureReason (error: unknown): FailureReason {
  const code = errorCode(error)
  if (code !== undefined) {
    if (DNS_CODES.has(code)) return 'dns'
    if (code === 'ECONNREFUSED') return 'refused'
    if (RESET_CODES.has(code)) return 'reset'
    if (TIMEOUT_CODES.has(code)) return 'timeout'
    if (TLS_CODE.test(code)) return 'tls'
  }
  if (error instanceof Error && error.name === 'AbortError') return 'timeout'
  return 'network'
}

/** One line describing an error, for failure messages: the message, or the code when it has none. */
export function errorText (error: unknown): string {
  if (error instanceof Error) {
    if (error.message !== '') return error.message
    if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(errorText).join('; ')
    return errorCode(error) ?? error.name
  }
  return String(error)
}
