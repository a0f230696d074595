/**
 * OpenTelemetry tracing for the demo app: a server span per request that continues the caller's
 * trace (the agent's probe sends a W3C `traceparent`), a client span per Postgres query and one per
 * upstream request, exported over OTLP or Jaeger thrift as `OTEL_*` say (see `config.ts`).
 *
 * Which instrumentation, and why it works here without a loader hook:
 * - requests: `@fastify/otel`, Fastify's own instrumentation (it replaced the deprecated
 *   `@opentelemetry/instrumentation-fastify`). It is a Fastify plugin, so nothing is patched: it
 *   extracts the incoming context, opens the request span, and runs each handler inside it.
 * - Postgres: `@opentelemetry/instrumentation-pg`. It patches `pg` when `pg` is first loaded;
 *   `pg` is CommonJS, and Node loads CommonJS through `require` even when an ES module imports
 *   it, so the `require` hook the instrumentation installs sees it — no `--import` loader is
 *   needed, but tracing must start before the app's modules load (`main.ts` imports `app.ts` after).
 * - upstream: `@opentelemetry/instrumentation-undici`, which listens on undici's diagnostics
 *   channels: it patches nothing, and injects `traceparent` into the outgoing request.
 *
 * These instrumentations find the current span through OpenTelemetry's global context API, so
 * the app registers a context manager (AsyncLocalStorage) and the W3C propagator globally — the
 * usual setup for an application process. The tracer provider itself is not registered: it is
 * handed to each instrumentation.
 *
 * The agent's tracing code is not reused: the app ships on its own (its container holds only
 * `demo-app/` and `contract/`).
 */
import { context, propagation } from '@opentelemetry/api'
import type { FastifyPluginCallback } from 'fastify'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace'
import type { Sampler, SpanExporter } from '@opentelemetry/sdk-trace'
import packageJson from '../package.json' with { type: 'json' }
import type { TracingConfig } from './config.ts'

/** How long one export may take, and how long `close()` waits for the last one, in ms. */
export const TRACE_EXPORT_TIMEOUT_MS = 5_000

/** Tracing as `main.ts` uses it. */
export interface DemoTracing {
  /** Registers the request spans; register it before every other plugin and route. */
  readonly fastifyPlugin: FastifyPluginCallback
  /** Stops the instrumentations and flushes spans, within {@link TRACE_EXPORT_TIMEOUT_MS}. Safe to call twice. */
  close (): Promise<void>
}

/**
 * Starts tracing as `config` says, or returns undefined for exporter `none` (nothing is loaded).
 * Call it before `app.ts` is imported, so the Postgres instrumentation sees `pg` load.
 */
export async function startDemoTracing (config: TracingConfig, serviceName: string): Promise<DemoTracing | undefined> {
  if (config.exporter === 'none') return undefined
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())

  const provider = new TracerProvider({
    sampler: sampler(config),
    resource: resourceFromAttributes({ 'service.name': serviceName, 'service.version': packageJson.version, 'process.pid': process.pid }),
    spanProcessors: [new BatchSpanProcessor({ exporter: await exporter(config), exportTimeoutMillis: TRACE_EXPORT_TIMEOUT_MS, scheduledDelayMillis: 1_000 })]
  })

  const [{ PgInstrumentation }, { UndiciInstrumentation }, { FastifyOtelInstrumentation }] = await Promise.all([
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-undici'),
    import('@fastify/otel')
  ])
  // Only inside a request: the pool's warm-up connections and the schema step are not traced.
  const pg = new PgInstrumentation({ requireParentSpan: true })
  const undici = new UndiciInstrumentation({ requireParentforSpans: true })
  const fastify = new FastifyOtelInstrumentation({
    // The semantic conventions name a server span `{method} {route}`; the plugin calls it `request`.
    requestHook: (span, request) => { span.updateName(`${request.method} ${request.routeOptions.url ?? ''}`.trim()) }
  })
  for (const instrumentation of [pg, undici, fastify]) {
    instrumentation.setTracerProvider(provider)
    instrumentation.enable()
  }

  let closing: Promise<void> | undefined
  return {
    fastifyPlugin: fastify.plugin(),
    close: () => {
      closing ??= (async () => {
        for (const instrumentation of [pg, undici, fastify]) instrumentation.disable()
        let timer: NodeJS.Timeout | undefined
        const deadline = new Promise<void>((resolve) => { timer = setTimeout(resolve, TRACE_EXPORT_TIMEOUT_MS).unref() })
        await Promise.race([provider.shutdown().catch(() => {}), deadline])
        clearTimeout(timer)
      })()
      return closing
    }
  }
}

/** The exporter `config` names; its package is loaded only then. */
async function exporter (config: TracingConfig): Promise<SpanExporter> {
  if (config.exporter === 'jaeger') {
    const { JaegerExporter } = await import('@opentelemetry/exporter-jaeger')
    const jaeger = config.endpoint === undefined
      ? new JaegerExporter({ host: config.jaegerAgent.host, port: config.jaegerAgent.port, flushTimeout: 2_000 })
      : new JaegerExporter({ endpoint: config.endpoint, flushTimeout: 2_000 })
    // Typed against the older SDK major it depends on; the shapes are the same.
    return jaeger as unknown as SpanExporter
  }
  const options = { url: config.endpoint, timeoutMillis: TRACE_EXPORT_TIMEOUT_MS }
  if (config.protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
    return new OTLPTraceExporter(options)
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto')
  return new OTLPTraceExporter(options)
}

function sampler (config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerArg)
  switch (config.sampler) {
    case 'always_on': return new AlwaysOnSampler()
    case 'always_off': return new AlwaysOffSampler()
    case 'traceidratio': return ratio
    case 'parentbased_always_on': return new ParentBasedSampler({ root: new AlwaysOnSampler() })
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() })
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: ratio })
  }
}
