/**
 * The composition root: wires config → sources → scheduler → snapshot → exporters, and swaps the
 * sources on reload. The only place that names concrete classes; everything else gets its
 * collaborators passed in.
 */
import type { Logger } from 'pino'
import { loadConfigFile, parseListenAddress, redactConfig, type AgentConfig } from './config/index.ts'
import { AgentHttpServer, type ServerAuth } from './exporters/http-server.ts'
import { formatFromAccept, PrometheusExporter } from './exporters/prometheus.ts'
import { selfFamilies, type ConfigStatus } from './exporters/self-metrics.ts'
import { renderStatusPage, targetsReport } from './exporters/targets-report.ts'
import { Scheduler } from './pipeline/scheduler.ts'
import { Snapshot } from './pipeline/snapshot.ts'
import { createSources } from './sources/index.ts'
import type { AgentTracing } from './tracing/agent-tracing.ts'
import { ProbeDurationHistogram } from './tracing/probe-duration-histogram.ts'
import type { Source } from './types.ts'
import { AGENT_VERSION } from './version.ts'

export interface StartAgentOptions {
  config: AgentConfig
  /** File to read again on reload; without it, reload reports that there is nothing to reload. */
  configPath?: string
  /** HOST:PORT overriding `server.listen` (from `--listen` or `OUTRIGGER_LISTEN`). */
  listen?: string
  logger: Logger
}

/** A running agent. */
export interface RunningAgent {
  /** Base URL of the HTTP server, e.g. `http://127.0.0.1:9465`. */
  readonly url: string
  /** Re-reads the config file; a bad file keeps the running config. Resolves true when applied. */
  reload (): Promise<boolean>
  /** Runs every source once now (used by tests and `/readyz` warm-up); resolves when all are done. */
  collectNow (): Promise<void>
  /** Stops the sources and the server; safe to call twice. */
  close (): Promise<void>
}

/** Starts the agent: the HTTP server first, so `/healthz` answers while the first runs go on. */
export async function startAgent (options: StartAgentOptions): Promise<RunningAgent> {
  const { logger } = options
  let config = options.config
  const snapshot = new Snapshot()
  const exporter = new PrometheusExporter()
  const configStatus: ConfigStatus = { lastReloadSuccessful: true, lastSuccessSeconds: Date.now() / 1000 }
  let sources: Source[] = []
  let scheduler: Scheduler | undefined
  const probeDurations = new ProbeDurationHistogram()
  // Loaded only when an exporter is configured: with `none` no OpenTelemetry code is in memory.
  const tracing: AgentTracing | undefined = config.tracing.exporter === 'none'
    ? undefined
    : await (await import('./tracing/agent-tracing.ts')).startTracing(config.tracing, { log: logger, serviceVersion: AGENT_VERSION })

  const startSources = (next: Source[]): void => {
    sources = next
    snapshot.track(sources)
    probeDurations.track(sources)
    scheduler = new Scheduler(sources, {
      ...(tracing === undefined ? {} : { wrap: tracing.wrap }),
      onRun: (source, result, startedSeconds, durationSeconds) => {
        const trace = tracing?.traceOf(result)
        snapshot.record(source, result, startedSeconds, durationSeconds, trace)
        probeDurations.observe(source, result, startedSeconds + durationSeconds, trace)
        if (result.failure !== undefined) {
          logger.warn({ source: source.id, reason: result.failure.reason, durationSeconds }, result.failure.message)
        }
      }
    })
    scheduler.start()
  }

  const stopSources = async (): Promise<void> => {
    const stopping = scheduler
    const closing = sources
    scheduler = undefined
    await stopping?.stop()
    await Promise.allSettled(closing.map(async (source) => source.close?.()))
  }

  let reloading: Promise<boolean> | undefined
  const reload = (): Promise<boolean> => {
    reloading ??= (async () => {
      if (options.configPath === undefined) {
        return false
      }
      let next: AgentConfig
      let nextSources: Source[]
      try {
        next = await loadConfigFile(options.configPath)
        nextSources = createSources(next, { selfPid: process.pid })
      } catch (error) {
        configStatus.lastReloadSuccessful = false
        logger.error({ configPath: options.configPath }, `configuration reload refused, the running configuration stays: ${(error as Error).message}`)
        return false
      }
      if (next.server.listen !== config.server.listen || JSON.stringify(next.server.tls) !== JSON.stringify(config.server.tls)) {
        logger.warn('server.listen and server.tls changes take effect at the next restart')
      }
      if (JSON.stringify(next.tracing) !== JSON.stringify(config.tracing)) {
        logger.warn('tracing changes take effect at the next restart')
      }
      await stopSources()
      config = next
      server.setAuth(serverAuth(config))
      startSources(nextSources)
      configStatus.lastReloadSuccessful = true
      configStatus.lastSuccessSeconds = Date.now() / 1000
      logger.info({ sources: sources.length }, 'configuration reloaded')
      return true
    })().finally(() => { reloading = undefined })
    return reloading
  }

  const listen = parseListenAddress(options.listen ?? config.server.listen)
  const tls = config.server.tls === undefined ? undefined : { key: config.server.tls.key, cert: config.server.tls.cert }
  const server = new AgentHttpServer({
    host: listen.host,
    port: listen.port,
    auth: serverAuth(config),
    openPaths: config.server.auth?.openPaths,
    tls,
    handlers: {
      metrics: async (accept) => {
        const states = snapshot.states()
        const families = [
          ...states.flatMap((state) => state.families),
          ...selfFamilies(states, configStatus, { version: AGENT_VERSION }),
          ...probeDurations.families(),
          ...(tracing?.families() ?? [])
        ]
        return exporter.render(families, formatFromAccept(accept))
      },
      ready: () => snapshot.ready(),
      targets: () => targetsReport(snapshot.states(), redactConfig(config)),
      statusPage: () => renderStatusPage(snapshot.states(), AGENT_VERSION),
      reload: async () => {
        const ok = await reload()
        return { ok, message: ok ? 'configuration reloaded' : 'configuration reload refused; the running configuration stays (see the log)' }
      }
    },
    onError: (error) => logger.error({ err: error }, 'request handler failed')
  })
  const initialSources = createSources(config, { selfPid: process.pid })
  const url = await server.start()
  startSources(initialSources)
  logger.info({ url, sources: sources.length }, 'agent started')

  let closing: Promise<void> | undefined
  return {
    url,
    reload,
    collectNow: async () => { await scheduler?.runAll() },
    close: () => {
      closing ??= (async () => {
        await server.close()
        await stopSources()
        await tracing?.close()
      })()
      return closing
    }
  }
}

function serverAuth (config: AgentConfig): ServerAuth | undefined {
  const auth = config.server.auth
  if (auth?.bearer !== undefined) {
    return { kind: 'bearer', token: auth.bearer.token }
  }
  if (auth?.basic !== undefined) {
    return { kind: 'basic', username: auth.basic.username, password: auth.basic.password }
  }
  return undefined
}
