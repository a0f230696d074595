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
 *
 * Every export has a hard deadline ({@link EXPORT_TIMEOUT_MS}): past it the export is counted as
 * failed and its connection is closed, whichever exporter sends.
 */
import type { Agent, ClientRequest } from 'node:http'
import type { Socket } from 'node:net'
import type { SpanExporter } from '@opentelemetry/sdk-trace'
import type { TracingSettings } from '../config/tracing-settings.ts'
import { DeadlineSpanExporter } from './deadline-exporter.ts'

/** How long one export request may take, in milliseconds; past it the export counts as failed. */
export const EXPORT_TIMEOUT_MS = 5_000

/**
 * How long the Jaeger exporter's shutdown waits for its last flush, in milliseconds. Its timer is
 * not unref'd and not cleared, so this is also how long it keeps a stopping process alive.
 */
export const JAEGER_FLUSH_TIMEOUT_MS = 2_000

/** Options of {@link loadSpanExporter}. */
export interface SpanExporterOptions {
  /** How long one export may take, in milliseconds; default {@link EXPORT_TIMEOUT_MS}. */
  exportTimeoutMs?: number
}

/**
 * The HTTP agent for OTLP exports: one connection per request, destroyed `timeoutMs` after it
 * opened. The exporter's own `timeoutMillis` is a socket idle timeout, which a backend trickling
 * its answer a byte at a time never trips: each such export would stay open for good and never be
 * counted as failed.
 */
async function deadlineAgent (protocol: string, timeoutMs: number): Promise<Agent> {
  // Imported here, as the exporter's documentation asks, so that HTTP instrumentation is unaffected.
  const { Agent: HttpAgent } = await import('node:http')
  const { Agent: HttpsAgent } = await import('node:https')
  const agent = protocol === 'https:' ? new HttpsAgent({ keepAlive: false }) : new HttpAgent({ keepAlive: false })
  const createConnection = agent.createConnection.bind(agent) as (...args: unknown[]) => Socket
  agent.createConnection = ((...args: unknown[]) => {
    const socket = createConnection(...args)
    const timer = setTimeout(() => socket.destroy(new Error(`the export took longer than ${timeoutMs} ms`)), timeoutMs)
    timer.unref()
    socket.once('close', () => clearTimeout(timer))
    return socket
  }) as Agent['createConnection']
  return agent
}

/**
 * What of the Jaeger exporter's HTTP sender (jaeger-client's `HTTPSender`, created on the first
 * export) ending a stuck request needs. These members are private to the packages, which are
 * pinned and receive no more releases; test/tracing/jaeger-export-deadline.test.ts fails if they
 * move.
 */
interface JaegerSenderInternals {
  _sender?: { _httpAgent?: Agent }
}

/** Sender agents already given a request deadline. */
const armedAgents = new WeakSet<Agent>()

/**
 * Gives every request of the Jaeger exporter's HTTP sender a hard deadline: past `timeoutMs` the
 * request is destroyed with its socket. The sender offers no way to pass in an agent or to abort a
 * request, and its `timeoutMs` only sets a socket idle timeout nobody listens to (the request stays
 * open). It also reports success on the response head and then reads the body to its end, so a
 * collector answering 200 and trickling the body would hold the socket for good although the
 * export succeeded; the request's `close` comes only with the body's end, which is what this waits
 * for. Its own keep-alive agent is the handle, and every request passes through its `addRequest`.
 * The sender exists from the first export on; a no-op before, and for the UDP sender.
 */
function armJaegerRequests (exporter: object, timeoutMs: number): void {
  const agent = (exporter as JaegerSenderInternals)._sender?._httpAgent
  if (agent === undefined || armedAgents.has(agent)) return
  armedAgents.add(agent)
  const withAddRequest = agent as Agent & { addRequest: (request: ClientRequest, ...rest: unknown[]) => void }
  const addRequest = withAddRequest.addRequest.bind(agent)
  withAddRequest.addRequest = (request, ...rest) => {
    const timer = setTimeout(() => request.destroy(new Error(`the trace export request took longer than ${timeoutMs} ms`)), timeoutMs)
    timer.unref()
    request.once('close', () => clearTimeout(timer))
    addRequest(request, ...rest)
  }
}

/**
 * Ends every connection of the Jaeger exporter's HTTP sender (a no-op for UDP, which holds none):
 * the stuck request fails (the sender reports a failed flush), and `http.Agent#destroy` only ends
 * the sockets the agent holds, so the next export opens a new one.
 */
function destroyJaegerConnections (exporter: object): void {
  (exporter as JaegerSenderInternals)._sender?._httpAgent?.destroy()
}

/**
 * The exporter for `settings` (`otlp` or `jaeger`). Each export reports within
 * `options.exportTimeoutMs`, as a failure past it, and closes its connection then.
 * @throws Error when `settings.exporter` is `none`: there is nothing to create.
 */
export async function loadSpanExporter (settings: TracingSettings, options: SpanExporterOptions = {}): Promise<SpanExporter> {
  const timeoutMs = options.exportTimeoutMs ?? EXPORT_TIMEOUT_MS
  switch (settings.exporter) {
    case 'otlp': {
      const httpAgentOptions = async (protocol: string): Promise<Agent> => deadlineAgent(protocol, timeoutMs)
      const config = { url: settings.endpoint, timeoutMillis: timeoutMs, httpAgentOptions }
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
      const jaeger = exporter as unknown as SpanExporter
      const armed: SpanExporter = {
        export: (spans, resultCallback) => {
          // The sender is created synchronously inside the first export, and its first request
          // goes out only after a few awaits (the batch starts empty): arming right after the call
          // catches it, and the agent stays armed for every later one.
          jaeger.export(spans, resultCallback)
          armJaegerRequests(exporter, timeoutMs)
        },
        shutdown: async () => { await jaeger.shutdown() },
        forceFlush: async () => { await jaeger.forceFlush?.() }
      }
      // The export deadline covers UDP too, where an export only waits on a datagram send (and a
      // name lookup), and an export of several requests as a whole.
      return new DeadlineSpanExporter(armed, timeoutMs, () => destroyJaegerConnections(exporter))
    }
    case 'none':
      throw new Error('tracing exporter is `none`: no span exporter to load')
  }
}
