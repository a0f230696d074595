/**
 * The embedded database: PGlite (Postgres compiled to WebAssembly, in this process) served over
 * the Postgres wire protocol by `@electric-sql/pglite-socket`, so the demo app talks to it through
 * `pg` exactly as it talks to a real server. Used when `DATABASE_URL` is unset.
 *
 * PGlite is a single-connection database: the socket server multiplexes several client connections
 * onto it and runs their statements one at a time. It is for trying the demo on a bare machine,
 * not for benchmarks; a client beyond `maxConnections` is turned away, so the app's pool max must
 * stay below it (`main.ts` sizes it so).
 */
import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** Data directory; unset keeps the database in memory (gone when the process ends). */
  dataDir?: string
  /** Address to bind; default 127.0.0.1. */
  host?: string
  /** Port; default 0 picks a free one. */
  port?: number
  /** Most client connections served at once; default 16. */
  maxConnections?: number
}

/** A running embedded database. */
export interface EmbeddedPostgres {
  /** A `postgres://` URL for `pg` (user `postgres`, database `postgres`, no TLS). */
  url: string
  host: string
  port: number
  /** Most client connections the socket server accepts at once. */
  maxConnections: number
  /** Stops the socket server, then closes the database. Safe to call twice. */
  close (): Promise<void>
}

/**
 * Starts PGlite and serves it on a TCP port.
 * @returns once the server listens; rejects if PGlite cannot start or the port cannot be bound.
 */
export async function startEmbeddedPostgres (options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const host = options.host ?? '127.0.0.1'
  const maxConnections = options.maxConnections ?? 16
  const db = await PGlite.create(options.dataDir)
  const server = new PGLiteSocketServer({ db, host, port: options.port ?? 0, maxConnections })
  try {
    await server.start()
  } catch (error) {
    await db.close()
    throw error
  }
  // getServerConn() is `host:port` once listening; the port is the one the OS picked for port 0.
  const port = Number(server.getServerConn().split(':').pop())
  let closing: Promise<void> | undefined
  return {
    url: `postgres://postgres:postgres@${host}:${port}/postgres`,
    host,
    port,
    maxConnections,
    close () {
      closing ??= (async () => {
        await server.stop()
        await db.close()
      })()
      return closing
    }
  }
}
