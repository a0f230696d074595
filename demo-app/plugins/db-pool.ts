/**
 * The Postgres connection pool: `pg.Pool` with the report's settings, a "min" that `pg` only half
 * has, acquire timing, and every connection failure turned into a 503-bound {@link DemoAppError}.
 */
import type { FastifyBaseLogger } from 'fastify'
import fp from 'fastify-plugin'
import pg from 'pg'
import type { StatsDbPool } from '../../contract/stats-v1.ts'
import type { DbPoolConfig } from '../config.ts'
import { DemoAppError } from '../errors.ts'
import { Histogram, secondsSince } from '../histogram.ts'

/** Options of {@link DbPool}: the pool settings plus where to connect. */
export interface DbPoolOptions extends DbPoolConfig {
  /** A `postgres://` URL. */
  connectionString: string
  /** Value of Postgres' `application_name`, shown in `pg_stat_activity`. */
  applicationName?: string
}

/** Messages `pg-pool` uses for its two acquire timeouts; it sets no `code`, so the message is all there is. */
const ACQUIRE_TIMEOUT_MESSAGES = ['timeout exceeded when trying to connect', 'Connection terminated due to connection timeout']

/** SQLSTATE `query_canceled`: the statement timeout (or an operator) cancelled the statement. */
const STATEMENT_CANCELLED = '57014'

/** SQLSTATE classes meaning the server or the connection is the problem, not the statement. */
const UNAVAILABLE_SQLSTATE = /^(08|53|57|28|3D)/

/** Messages of `pg`'s own connection failures, which carry no `code`. */
const PG_CONNECTION_MESSAGES = /^(Connection terminated|Client has encountered a connection error|Client was closed|Query read timeout)/

/**
 * Whether `error` is about reaching the database rather than about the SQL it ran (or a bug in
 * the caller): a Node socket error (`ECONNREFUSED`, `ECONNRESET`, `EPIPE`, …), a SQLSTATE in a
 * class meaning the server or the connection failed, or one of pg's connection messages.
 */
export function isConnectionError (error: unknown): boolean {
  if (error instanceof DemoAppError) return false
  const e = error as { code?: unknown, message?: unknown } | null
  if (typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code)) return true
  if (typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return UNAVAILABLE_SQLSTATE.test(e.code)
  return typeof e?.message === 'string' && PG_CONNECTION_MESSAGES.test(e.message)
}

/** A readable reason even for Node's `AggregateError` (both loopback families refused), whose message is empty. */
function reasonOf (error: unknown): string {
  const e = error as { message?: string, code?: string, errors?: Array<{ message?: string }> } | null
  return e?.message || e?.errors?.[0]?.message || e?.code || String(error)
}

/**
 * A `pg.Pool` with the demo app's policy:
 * - keeps `min` connections open: `pg` has a `min` option but only uses it to spare idle
 *   connections from the idle timeout, so `start()` opens them and a top-up refills them after a
 *   connection is removed (max lifetime, errors) or the database comes back;
 * - no test-before-acquire (pg has none: a dead connection fails its query and is dropped);
 * - acquire timeout → `DEMO_ERR_DB_ACQUIRE_TIMEOUT`, unreachable database → `DEMO_ERR_DB_UNAVAILABLE`.
 */
export class DbPool {
  readonly #pool: pg.Pool
  readonly #options: DbPoolOptions
  readonly #log: FastifyBaseLogger
  readonly #acquireSeconds = new Histogram()
  #acquireTimeouts = 0
  #errors = 0
  #queries = 0
  #toppingUp = false
  #closing: Promise<void> | undefined

  /** Creates the pool; connects nothing until {@link start} or the first query. */
  constructor (options: DbPoolOptions, log: FastifyBaseLogger) {
    this.#options = options
    this.#log = log
    this.#pool = new pg.Pool({
      connectionString: options.connectionString,
      application_name: options.applicationName ?? 'demo-app',
      max: options.max,
      min: options.min,
      idleTimeoutMillis: options.idleTimeoutMs,
      maxLifetimeSeconds: options.maxLifetimeSeconds,
      connectionTimeoutMillis: options.acquireTimeoutMs,
      // Enforced by the server, which cancels the statement and keeps the connection usable.
      // (The embedded database ignores it.)
      statement_timeout: options.statementTimeoutMs
    })
    // An idle connection that dies (server restart) is reported here; unhandled, it would crash the process.
    this.#pool.on('error', (error) => {
      this.#errors++
      this.#log.warn({ err: error }, 'idle database connection failed')
    })
    this.#pool.on('remove', () => { this.#topUp() })
  }

  /** Opens the `min` warm connections. Rejects with a {@link DemoAppError} if the database is unreachable. */
  async start (): Promise<void> {
    await this.#fill()
  }

  /** Statements run so far (each `query()` call and each statement through `withClient` counts once). */
  get queries (): number {
    return this.#queries
  }

  /**
   * Runs one statement on a pooled connection.
   * @throws DemoAppError (503) when no connection can be had or it breaks; the `pg` error for SQL errors.
   */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow> (text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return await this.withClient((client) => client.query<R>(text, values))
  }

  /**
   * Checks out a connection for `fn` (for transactions) and releases it afterwards; a connection
   * that failed is destroyed rather than returned. Statements are counted on the client's `query`.
   * @throws DemoAppError (503) as {@link query}; whatever `fn` throws otherwise.
   */
  async withClient<T> (fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#acquire()
    const query = client.query.bind(client) as (...args: unknown[]) => unknown
    const counted = new Proxy(client, {
      get: (target, key, receiver) => key === 'query'
        ? (...args: unknown[]) => { this.#queries++; return query(...args) }
        : Reflect.get(target, key, receiver) as unknown
    })
    try {
      const result = await fn(counted)
      this.#release(client)
      return result
    } catch (error) {
      this.#errors++
      if ((error as { code?: unknown } | null)?.code === STATEMENT_CANCELLED) {
        this.#release(client)
        throw new DemoAppError('DEMO_ERR_DB_TIMEOUT',
          `database statement cancelled after the ${this.#options.statementTimeoutMs} ms statement timeout: ${reasonOf(error)}`, { cause: error })
      }
      const broken = isConnectionError(error)
      this.#release(client, broken ? (error as Error) : undefined)
      if (broken) throw new DemoAppError('DEMO_ERR_DB_UNAVAILABLE', `database unavailable: ${reasonOf(error)}`, { cause: error })
      throw error
    }
  }

  /**
   * Checks that the database answers `SELECT 1` within `timeoutMs`.
   * @throws DemoAppError (503) with the reason, or after `timeoutMs` without an answer.
   */
  async ping (timeoutMs: number): Promise<void> {
    const attempt = this.query('SELECT 1')
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new DemoAppError('DEMO_ERR_DB_UNAVAILABLE', `database did not answer within ${timeoutMs} ms`)), timeoutMs)
      timer.unref()
    })
    // The losing attempt still settles later; its outcome is already counted.
    attempt.catch(() => {})
    try {
      await Promise.race([attempt, deadline])
    } finally {
      clearTimeout(timer)
    }
  }

  /** The pool in the `outrigger.stats/v1` shape. */
  stats (): StatsDbPool {
    return {
      max: this.#options.max,
      total: this.#pool.totalCount,
      idle: this.#pool.idleCount,
      waiting: this.#pool.waitingCount,
      acquireSeconds: this.#acquireSeconds.snapshot(),
      acquireTimeouts: this.#acquireTimeouts,
      errors: this.#errors
    }
  }

  /** Waits for checked-out connections to come back, then closes every connection. Safe to call twice. */
  close (): Promise<void> {
    this.#closing ??= this.#pool.end()
    return this.#closing
  }

  async #acquire (): Promise<pg.PoolClient> {
    if (this.#closing !== undefined) {
      throw new DemoAppError('DEMO_ERR_SHUTTING_DOWN', 'the database pool is closing')
    }
    const start = process.hrtime.bigint()
    let client: pg.PoolClient
    try {
      client = await this.#pool.connect()
    } catch (error) {
      const message = (error as Error | null)?.message ?? ''
      if (ACQUIRE_TIMEOUT_MESSAGES.some((m) => message.startsWith(m))) {
        this.#acquireTimeouts++
        throw new DemoAppError('DEMO_ERR_DB_ACQUIRE_TIMEOUT',
          `no database connection became free within ${this.#options.acquireTimeoutMs} ms (pool max ${this.#options.max}, ${this.#pool.waitingCount} waiting)`, { cause: error })
      }
      this.#errors++
      throw new DemoAppError('DEMO_ERR_DB_UNAVAILABLE', `database unavailable: ${reasonOf(error)}`, { cause: error })
    }
    this.#acquireSeconds.observe(secondsSince(start))
    this.#guard(client)
    this.#topUp()
    return client
  }

  /**
   * pg-pool listens for errors only on idle connections; a checked-out one that loses its server
   * emits 'error' with no listener, which would crash the process. The query in flight fails anyway.
   */
  #guard (client: pg.PoolClient): void {
    client.on('error', this.#onCheckedOutError)
  }

  readonly #onCheckedOutError = (error: Error): void => {
    this.#log.debug({ err: error }, 'checked-out database connection failed')
  }

  #release (client: pg.PoolClient, error?: Error): void {
    client.off('error', this.#onCheckedOutError)
    client.release(error)
  }

  /** Refills the warm connections in the background when fewer than `min` are open. */
  #topUp (): void {
    if (this.#toppingUp || this.#closing !== undefined || this.#pool.totalCount >= this.#options.min) return
    this.#toppingUp = true
    this.#fill().catch((error: unknown) => {
      this.#log.warn({ err: error }, 'could not refill the warm database connections')
    }).finally(() => { this.#toppingUp = false })
  }

  /**
   * Brings the pool up to `min` open connections. `pool.connect()` hands out idle connections
   * before it opens new ones, so it asks for the idle ones plus the missing ones at once.
   */
  async #fill (): Promise<void> {
    const missing = this.#options.min - this.#pool.totalCount
    if (missing <= 0) return
    const wanted = missing + this.#pool.idleCount
    const results = await Promise.allSettled(Array.from({ length: wanted }, async () => {
      const client = await this.#pool.connect()
      this.#guard(client)
      return client
    }))
    let failure: unknown
    for (const result of results) {
      if (result.status === 'fulfilled') this.#release(result.value)
      else failure ??= result.reason
    }
    if (failure !== undefined) {
      this.#errors++
      throw new DemoAppError('DEMO_ERR_DB_UNAVAILABLE', `database unavailable: ${reasonOf(failure)}`, { cause: failure })
    }
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The Postgres pool; see `plugins/db-pool.ts`. */
    db: DbPool
  }
}

/** Decorates `app.db` and closes the pool in `onClose`. Opens the warm connections before the app is ready. */
export const dbPoolPlugin = fp<DbPoolOptions>(async (app, options) => {
  const pool = new DbPool(options, app.log.child({ plugin: 'db-pool' }))
  app.decorate('db', pool)
  app.addHook('onClose', async () => { await pool.close() })
  await pool.start()
}, { name: 'db-pool', fastify: '5.x' })
