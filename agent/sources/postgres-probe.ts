/**
 * The Postgres probe: opens one fresh connection per run (what a liveness probe should measure —
 * a pool would hide a server that no longer accepts connections), runs one query, and closes the
 * connection whatever happened.
 */
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import type { ClientConfig } from 'pg'
import type { CollectResult, MetricFamily, Source, SourceFailure } from '../types.ts'
import type { FailureReason } from '../errors.ts'
import type { TlsOptions } from '../net/http-request.ts'
import { errorText, networkFailureReason } from '../net/network-error.ts'
import { gauge, outcomeFamilies, phaseGauge, probeLabels } from '../net/probe-families.ts'
import { currentRunSpan } from '../tracing/run-span.ts'
import type { OperationSpan } from '../tracing/run-span.ts'
import {
  ATTR_DB_NAMESPACE, ATTR_DB_QUERY_TEXT, ATTR_DB_SYSTEM, ATTR_DB_SYSTEM_NAME, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT,
  DB_SYSTEM_NAME_POSTGRESQL
} from '../tracing/span-attributes.ts'

/** Seconds per phase: `connect` (TCP, TLS and authentication) and `query`. */
export const PROBE_POSTGRES_DURATION_SECONDS = 'probe_postgres_duration_seconds'
/** The server's version as `server_version_num` spells it (150008 for 15.8), when it said. */
export const PROBE_POSTGRES_SERVER_VERSION_NUM = 'probe_postgres_server_version_num'

/** `application_name` of the probe's sessions, so a DBA can tell them apart in `pg_stat_activity`. */
export const POSTGRES_PROBE_APPLICATION_NAME = 'outrigger-probe'

/** Where and as whom the probe connects. */
export interface PostgresConnectionOptions {
  host: string
  port: number
  user: string
  /**
   * Never written to any message, label or log. When absent, the driver falls back to `PGPASSWORD`
   * and `~/.pgpass` as libpq does.
   */
  password?: string
  database: string
  /** `true` for TLS with the system roots, or the certificate checks to apply. Default no TLS. */
  ssl?: boolean | TlsOptions
}

/** A Postgres probe as the configuration declares it. */
export interface PostgresProbeOptions {
  /** Name of the target; the `target` label. */
  target: string
  /** Name of the probe within the target; the `probe` label. */
  name: string
  connection: PostgresConnectionOptions
  /** Query to run; any result counts as success. Default `SELECT 1`. */
  query?: string
  /** Run period, seconds. */
  intervalSeconds: number
  /**
   * Deadline of one run, seconds. Also sent as the session's `statement_timeout`, so the server
   * stops a slow query itself rather than running it on after the probe has gone.
   */
  timeoutSeconds: number
}

/** SQLSTATEs with a reason of their own; the rest of class 28 is `auth`. */
const SQLSTATE_REASONS: Readonly<Record<string, FailureReason>> = {
  '3D000': 'not_found', // invalid_catalog_name: the database does not exist
  '57014': 'timeout' // query_canceled: statement_timeout fired
}

/** Checks that a Postgres server accepts a connection and answers a query; see {@link PostgresProbeOptions}. */
export class PostgresProbe implements Source {
  readonly id: string
  readonly target: string
  readonly kind = 'postgres' as const
  readonly intervalSeconds: number
  readonly timeoutSeconds: number
  readonly #options: PostgresProbeOptions
  readonly #where: string
  /** Clients of runs in flight, so `close()` can end them. */
  readonly #clients = new Set<pg.Client>()

  constructor (options: PostgresProbeOptions) {
    this.#options = options
    this.id = `${options.target}/postgres/${options.name}`
    this.target = options.target
    this.intervalSeconds = options.intervalSeconds
    this.timeoutSeconds = options.timeoutSeconds
    const c = options.connection
    this.#where = `postgres ${c.user}@${c.host}:${c.port}/${c.database}`
  }

  /** Runs the probe once. Never rejects: a failure is `probe_success 0` plus the failure. */
  async collect (signal: AbortSignal): Promise<CollectResult> {
    const started = performance.now()
    const phases = { connect: 0, query: 0 }
    let serverVersionNum: number | undefined
    let failure: SourceFailure | undefined
    let stage: 'connect' | 'query' = 'connect'
    // Traced runs get a client span per phase; the password is never an attribute.
    const run = currentRunSpan()
    const c = this.#options.connection
    const query = this.#options.query ?? 'SELECT 1'
    const dbAttributes = {
      [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_POSTGRESQL,
      [ATTR_DB_SYSTEM]: DB_SYSTEM_NAME_POSTGRESQL,
      [ATTR_SERVER_ADDRESS]: c.host,
      [ATTR_SERVER_PORT]: c.port,
      [ATTR_DB_NAMESPACE]: c.database
    }
    run?.setAttributes(dbAttributes)
    let stageSpan: OperationSpan | undefined = run?.startChild('postgresql connect', { kind: 'client', attributes: dbAttributes })

    const client = new pg.Client(this.#clientConfig())
    this.#clients.add(client)
    // Errors after the run has given up (a socket reset while closing) arrive as events; the run
    // has already reported its outcome, and an unhandled 'error' would take the agent down.
    client.on('error', () => {})
    client.connection.on('parameterStatus', (message: { parameterName: string, parameterValue: string }) => {
      if (message.parameterName === 'server_version') serverVersionNum = versionNum(message.parameterValue)
    })
    const onAbort = (): void => { client.connection.stream.destroy() }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      let mark = performance.now()
      await untilAborted(client.connect(), signal)
      phases.connect = (performance.now() - mark) / 1000
      stageSpan?.end()
      stage = 'query'
      stageSpan = run?.startChild('postgresql query', { kind: 'client', attributes: { ...dbAttributes, [ATTR_DB_QUERY_TEXT]: query } })
      mark = performance.now()
      await untilAborted(client.query(query), signal)
      phases.query = (performance.now() - mark) / 1000
      stageSpan?.end()
    } catch (error) {
      failure = signal.aborted
        ? { reason: 'timeout', message: `${this.#where}: deadline reached during ${stage}` }
        : { reason: failureReason(error, stage), message: this.#redact(`${this.#where}: ${stage} failed: ${errorText(error)}`) }
      stageSpan?.fail(failure.reason, failure.message)
      stageSpan?.end()
    } finally {
      signal.removeEventListener('abort', onAbort)
      await closeClient(client, failure !== undefined, signal)
      this.#clients.delete(client)
    }

    const labels = probeLabels(this.#options.target, this.#options.name)
    const families: MetricFamily[] = [
      ...outcomeFamilies(labels, failure === undefined, (performance.now() - started) / 1000),
      phaseGauge(PROBE_POSTGRES_DURATION_SECONDS, 'Duration of each phase of the Postgres probe, in seconds; connect includes authentication.', labels, [
        ['connect', phases.connect],
        ['query', phases.query]
      ])
    ]
    if (serverVersionNum !== undefined) {
      families.push(gauge(PROBE_POSTGRES_SERVER_VERSION_NUM, 'Version of the Postgres server, as server_version_num.', labels, serverVersionNum))
    }
    return failure === undefined ? { families } : { families, failure }
  }

  /** Ends the connections of runs in flight. Safe to call twice. */
  async close (): Promise<void> {
    for (const client of this.#clients) client.connection.stream.destroy()
    this.#clients.clear()
  }

  #clientConfig (): ClientConfig {
    const c = this.#options.connection
    const config: ClientConfig = {
      host: c.host,
      port: c.port,
      user: c.user,
      database: c.database,
      application_name: POSTGRES_PROBE_APPLICATION_NAME,
      statement_timeout: Math.max(1, Math.ceil(this.timeoutSeconds * 1000))
    }
    if (c.password !== undefined) config.password = c.password
    if (c.ssl === true) config.ssl = true
    else if (typeof c.ssl === 'object') {
      config.ssl = { rejectUnauthorized: c.ssl.insecureSkipVerify !== true, ...(c.ssl.ca === undefined ? {} : { ca: c.ssl.ca }) }
    }
    return config
  }

  /** Removes the password from a message: the server and the driver may both quote it back. */
  #redact (message: string): string {
    let text = message.replace(/(\/\/[^/:@\s]*:)[^@\s]*@/g, '$1[redacted]@')
    const password = this.#options.connection.password
    if (password !== undefined && password !== '') text = text.split(password).join('[redacted]')
    return text
  }
}

function failureReason (error: unknown, stage: 'connect' | 'query'): FailureReason {
  if (error instanceof pg.DatabaseError && error.code !== undefined) {
    const known = SQLSTATE_REASONS[error.code]
    if (known !== undefined) return known
    if (error.code.startsWith('28')) return 'auth' // invalid_authorization_specification, invalid_password
    return stage === 'query' ? 'query' : 'network'
  }
  const text = errorText(error)
  if (/\bSSL\b|TLS/.test(text)) return 'tls'
  if (/Connection terminated/.test(text)) return 'reset'
  return networkFailureReason(error)
}

/** Settles with `promise`, or rejects as soon as `signal` aborts; a later rejection is ignored. */
function untilAborted<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => {})
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/**
 * Ends the session: politely after success (Terminate, then wait for the server to close, bounded
 * by the deadline), at once after a failure (the socket may be mid-query or half-open).
 */
async function closeClient (client: pg.Client, failed: boolean, signal: AbortSignal): Promise<void> {
  if (failed) {
    client.connection.stream.destroy()
    client.end().catch(() => {})
    return
  }
  try {
    await untilAborted(client.end(), signal)
  } catch {
    client.connection.stream.destroy()
  }
}

/** `server_version` (`15.8 (Debian …)`, `9.6.24`) as `server_version_num`, or undefined. */
function versionNum (version: string): number | undefined {
  const match = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(version)
  if (match === null) return undefined
  const [major, minor, patch] = [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)]
  return major >= 10 ? major * 10000 + minor : major * 10000 + minor * 100 + patch
}
