/**
 * `npm run demo-app`: reads the environment, starts the embedded database when `DATABASE_URL` is
 * unset, builds the app, listens on `PORT`, and shuts down gracefully on SIGTERM/SIGINT within
 * `SHUTDOWN_TIMEOUT_MS` (stop accepting, finish in-flight requests, close the pool).
 * Exit codes: 0 after a clean shutdown, 1 when start-up or shutdown fails, 2 on a bad environment.
 */
import { pino } from 'pino'
import { loadDemoConfig, type DemoConfig } from './config.ts'
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-db.ts'
import { startDemoTracing } from './tracing.ts'

let config: DemoConfig
try {
  config = loadDemoConfig(process.env)
} catch (error) {
  console.error((error as Error).message)
  process.exit(2)
}

const logger = pino({ level: config.logLevel, base: { service: config.serviceName, pid: process.pid } })
for (const warning of config.warnings) logger.warn(warning)

let embedded: EmbeddedPostgres | undefined
if (config.databaseUrl === undefined) {
  // The socket server turns away connections beyond its limit; headroom covers connections being replaced.
  embedded = await startEmbeddedPostgres({ dataDir: config.embeddedDbDir, maxConnections: config.db.max + 4 }).catch((error: unknown) => {
    logger.fatal({ err: error, dataDir: config.embeddedDbDir }, 'embedded database could not start')
    process.exit(1)
  })
  config = Object.freeze({ ...config, databaseUrl: embedded.url })
  logger.info({ url: embedded.url.replace(/:[^:@/]*@/, ':***@'), inMemory: config.embeddedDbDir === undefined }, 'embedded database started (PGlite)')
}

// Tracing starts before the app's modules load: the Postgres instrumentation patches `pg` as it loads.
const tracing = await startDemoTracing(config.tracing, config.serviceName)
const { buildApp } = await import('./app.ts')
const app = await buildApp(config, { logger, ...(tracing === undefined ? {} : { tracingPlugin: tracing.fastifyPlugin }) }).catch(async (error: unknown) => {
  logger.fatal({ err: error }, 'demo app could not start')
  await tracing?.close()
  await embedded?.close()
  process.exit(1)
})

let stopping = false
const shutdown = async (signal: string): Promise<void> => {
  if (stopping) {
    logger.warn({ signal }, 'second signal: exiting now')
    process.exit(1)
  }
  stopping = true
  logger.info({ signal, deadlineMs: config.shutdownTimeoutMs }, 'shutting down')
  const deadline = setTimeout(() => {
    logger.error({ deadlineMs: config.shutdownTimeoutMs }, 'shutdown deadline passed; exiting with requests unfinished')
    process.exit(1)
  }, config.shutdownTimeoutMs)
  deadline.unref()
  try {
    await app.close()
    await tracing?.close()
    await embedded?.close()
    logger.info('shut down cleanly')
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed')
    process.exitCode = 1
  } finally {
    clearTimeout(deadline)
  }
}
// A second signal while shutting down forces the exit (see `shutdown`).
process.on('SIGTERM', (signal) => { void shutdown(signal) })
process.on('SIGINT', (signal) => { void shutdown(signal) })

try {
  await app.listen({ port: config.port, host: config.host })
} catch (error) {
  logger.fatal({ err: error, port: config.port, host: config.host }, 'demo app could not listen')
  await app.close()
  await embedded?.close()
  process.exit(1)
}
logger.info({ profile: config.profile, url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${(app.server.address() as { port: number }).port}` }, 'demo app listening')
