/**
 * Creates the span exporter the settings name, loading its package only then: each exporter
 * brings its own HTTP, protobuf or thrift code, and an agent that sends OTLP should not carry the
 * Jaeger client in memory (nor the other way round).
 *
 * Two families are offered. OTLP over HTTP is the recommended one: Jaeger v2 and every OpenTelemetry
 * collector take it natively. Jaeger thrift (`@opentelemetry/exporter-jaeger`, to a collector's
 * `/api/traces` over HTTP, or to a Jaeger agent over UDP) is deprecated upstream and receives no
 * fixes; it stays for Jaeger v1 deployments that only listen for thrift. That package depends on an
 * older SDK major (2.x) for its types; npm installs that copy beside it, and at run time it calls
 * only the stable API, so it works with the SDK the agent uses.
 */
import type { Agent } from 'node:http'
import type { Socket } from 'node:net'
import type { SpanExporter } from '@opentelemetry/sdk-trace'
import type { TracingSettings } from '../config/tracing-settings.ts'

/** How long one export request may take, in milliseconds; past it the export counts as failed. */
export const EXPORT_TIMEOUT_MS = 5_000

/**
 * How long the Jaeger exporter's shutdown waits for its last flush, in milliseconds. Its timer is
 * not unref'd and not cleared, so this is also how long it keeps a stopping process alive.
 */
export const JAEGER_FLUSH_TIMEOUT_MS = 2_000

/**
 * The HTTP agent for OTLP exports: one connection per request, destroyed {@link EXPORT_TIMEOUT_MS}
 * after it opened. The exporter's own `timeoutMillis` is a socket idle timeout, which a backend
 * trickling its answer a byte at a time never trips: each such export would stay open for good and
 * never be counted as failed.
 */
async function deadlineAgent (protocol: string): Promise<Agent> {
  // Imported here, as the exporter's documentation asks, so that HTTP instrumentation is unaffected.
  const { Agent: HttpAgent } = await import('node:http')
  const { Agent: HttpsAgent } = await import('node:https')
  const agent = protocol === 'https:' ? new HttpsAgent({ keepAlive: false }) : new HttpAgent({ keepAlive: false })
  const createConnection = agent.createConnection.bind(agent) as (...args: unknown[]) => Socket
  agent.createConnection = ((...args: unknown[]) => {
    const socket = createConnection(...args)
    const timer = setTimeout(() => socket.destroy(new Error(`the export took longer than ${EXPORT_TIMEOUT_MS} ms`)), EXPORT_TIMEOUT_MS)
    timer.unref()
    socket.once('close', () => clearTimeout(timer))
    return socket
  }) as Agent['createConnection']
  return agent
}

/**
 * The exporter for `settings` (`otlp` or `jaeger`).
 * @throws Error when `settings.exporter` is `none`: there is nothing to create.
 */
export async function loadSpanExporter (settings: TracingSettings): Promise<SpanExporter> {
  switch (settings.exporter) {
    case 'otlp': {
      const config = { url: settings.endpoint, timeoutMillis: EXPORT_TIMEOUT_MS, httpAgentOptions: deadlineAgent }
      if (settings.protocol === 'http/json') {
        const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
        return new OTLPTraceExporter(config)
      }
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto')
      return new OTLPTraceExporter(config)
    }
    case 'jaeger': {
      const { JaegerExporter } = await import('@opentelemetry/exporter-jaeger')
      // Given explicitly, so the exporter's own reading of OTEL_EXPORTER_JAEGER_* never disagrees
      // with the settings (which already hold the environment's values).
      const exporter = settings.endpoint === undefined
        ? new JaegerExporter({ host: settings.jaegerAgent.host, port: settings.jaegerAgent.port, flushTimeout: JAEGER_FLUSH_TIMEOUT_MS })
        : new JaegerExporter({ endpoint: settings.endpoint, flushTimeout: JAEGER_FLUSH_TIMEOUT_MS })
      // Its types come from the older SDK copy it depends on; the shapes are the same.
      return exporter as unknown as SpanExporter
    }
    case 'none':
      throw new Error('tracing exporter is `none`: no span exporter to load')
  }
}
