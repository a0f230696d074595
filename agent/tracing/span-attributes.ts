/**
 * The span attribute names the agent writes: OpenTelemetry semantic-convention names, kept here as
 * constants so that sources can name them without loading the semantic-conventions package (a
 * test checks each against it), plus the agent's own `outrigger.*` names.
 */
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method'
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code'
export const ATTR_HTTP_REQUEST_RESEND_COUNT = 'http.request.resend_count'
export const ATTR_URL_FULL = 'url.full'
export const ATTR_SERVER_ADDRESS = 'server.address'
export const ATTR_SERVER_PORT = 'server.port'
export const ATTR_ERROR_TYPE = 'error.type'
export const ATTR_NETWORK_TRANSPORT = 'network.transport'
export const ATTR_NETWORK_PROTOCOL_NAME = 'network.protocol.name'
export const ATTR_DB_SYSTEM_NAME = 'db.system.name'
/** The name `db.system.name` replaced; still what Jaeger's UI and older backends look for. */
export const ATTR_DB_SYSTEM = 'db.system'
export const ATTR_DB_NAMESPACE = 'db.namespace'
export const ATTR_DB_QUERY_TEXT = 'db.query.text'
export const ATTR_DB_OPERATION_NAME = 'db.operation.name'
export const ATTR_PROCESS_PID = 'process.pid'

/** The `db.system.name` value for PostgreSQL. */
export const DB_SYSTEM_NAME_POSTGRESQL = 'postgresql'

/** The target the run observes: the `target` label. */
export const ATTR_OUTRIGGER_TARGET = 'outrigger.target'
/** The source within the target: the `source` label (`stats`, `process`, `http/<probe>`, …). */
export const ATTR_OUTRIGGER_SOURCE = 'outrigger.source'
/** The source kind: `stats`, `http`, `tcp`, `postgres` or `process`. */
export const ATTR_OUTRIGGER_SOURCE_KIND = 'outrigger.source.kind'
/** The bounded reason of a failed run or operation, as on `outrigger_source_errors_total`. */
export const ATTR_OUTRIGGER_FAILURE_REASON = 'outrigger.failure.reason'

/** Query parameters whose values are credentials often enough to hide (semantic conventions name the signature ones). */
const SECRET_QUERY = /token|secret|password|passwd|key|sig|auth|credential/i

/**
 * A URL fit for `url.full`: credentials replaced by `REDACTED:REDACTED` and credential-looking
 * query values by `REDACTED`, as the HTTP semantic conventions ask.
 */
export function spanUrl (raw: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    // Not a URL: keep nothing that could be a credential.
    return raw.replace(/\/\/[^/@]*@/, '//REDACTED:REDACTED@')
  }
  if (url.username !== '' || url.password !== '') {
    url.username = 'REDACTED'
    url.password = 'REDACTED'
  }
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_QUERY.test(name)) url.searchParams.set(name, 'REDACTED')
  }
  return url.href
}
