/**
 * The agent's tracing: a tracer provider of its own (never registered globally, so two agents — or
 * an agent and an instrumented app — can share a process), a span per source run, and the export
 * pipeline with its counters.
 *
 * Pipeline: spans → batch span processor (bounded queue; full means dropped, never blocking) →
 * {@link CountingSpanExporter} → the OTLP or Jaeger exporter. Exporting happens on the processor's
 * own timer, so a slow or dead collector never slows a probe; every export has a hard deadline
 * that closes its connection, and failures are counted and logged at a bounded rate. `close()`
 * flushes what is queued within a deadline, then ends any export still in flight and lets go.
 *
 * The composition root loads this module only when an exporter is configured: with `none` no
 * OpenTelemetry code is loaded at all.
 */
import { hostname } from 'node:os'
import { createNoopMeter, defaultTextMapSetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api'
import type { Attributes, Counter, Meter, MeterProvider, Span, Tracer } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace'
import type { Sampler, SpanExporter } from '@opentelemetry/sdk-trace'
import type { TracingSettings } from '../config/tracing-settings.ts'
import type { FailureReason } from '../errors.ts'
import type { RunWrapper } from '../pipeline/scheduler.ts'
import { sourceLabel } from '../pipeline/snapshot.ts'
import type { CollectResult, MetricFamily, Source } from '../types.ts'
import { CountingSpanExporter } from './counting-exporter.ts'
import { DeadlineSpanExporter } from './deadline-exporter.ts'
import type { ExportFailureLog } from './counting-exporter.ts'
import { runInSpan } from './run-span.ts'
import type { OperationSpan, RunSpan, SpanAttributes } from './run-span.ts'
import {
  ATTR_OUTRIGGER_FAILURE_REASON, ATTR_OUTRIGGER_SOURCE, ATTR_OUTRIGGER_SOURCE_KIND, ATTR_OUTRIGGER_TARGET
} from './span-attributes.ts'
import { EXPORT_TIMEOUT_MS, loadSpanExporter } from './span-exporter-loader.ts'
import { TraceExportCounters } from './trace-metrics.ts'

/** Most spans waiting for export; past it new spans are dropped (and counted). */
export const MAX_QUEUED_SPANS = 2048
/** Most spans in one export request. */
export const MAX_EXPORT_BATCH_SPANS = 512
/** How long ended spans wait before an export, in milliseconds. */
export const EXPORT_DELAY_MS = 2_000
/** How long `close()` waits for the last export, in milliseconds. */
export const CLOSE_DEADLINE_MS = 3_000

/** The SDK's self-observability counter of spans leaving the processor; `error.type` says why they left. */
const PROCESSED_SPANS_METRIC = 'otel.sdk.processor.span.processed'

/** The trace a run belongs to, for exemplars. */
export interface RunTrace {
  traceId: string
  spanId: string
}

/** What the agent needs from its tracing. */
export interface AgentTracing {
  /** For the scheduler: runs each source run inside its span. */
  readonly wrap: RunWrapper
  /** The sampled trace of the run that returned `result`, or undefined (not sampled, or not a traced run). */
  traceOf (result: CollectResult): RunTrace | undefined
  /** `outrigger_trace_*` families: spans exported, failed and dropped. */
  families (): MetricFamily[]
  /** Ends tracing: flushes queued spans within {@link CLOSE_DEADLINE_MS}, then ends any export still in flight. Safe to call twice. */
  close (): Promise<void>
}

/** Collaborators of {@link startTracing}. */
export interface TracingOptions {
  /** Where export failures are logged (rate-limited). */
  log: ExportFailureLog
  /** `service.version` of the spans. */
  serviceVersion: string
  /** The exporter to send to; default the one `settings` name. Tests pass an in-memory one. */
  exporter?: SpanExporter
  /** Overrides of the batch processor's timing, for tests. */
  exportDelayMs?: number
  maxQueuedSpans?: number
  /** How long one export may take, in milliseconds; default {@link EXPORT_TIMEOUT_MS}. For tests. */
  exportTimeoutMs?: number
}

/**
 * Starts tracing as `settings` say. Opens no connection: exporters connect on their first export.
 * @throws Error when `settings.exporter` is `none` (callers skip tracing then).
 */
export async function startTracing (settings: TracingSettings, options: TracingOptions): Promise<AgentTracing> {
  const counters = new TraceExportCounters()
  const exportTimeoutMs = options.exportTimeoutMs ?? EXPORT_TIMEOUT_MS
  const sender = options.exporter ?? await loadSpanExporter(settings, { exportTimeoutMs })
  const exporter = new CountingSpanExporter(sender, counters, options.log)
  const maxQueueSize = options.maxQueuedSpans ?? MAX_QUEUED_SPANS
  const provider = new TracerProvider({
    sampler: createSampler(settings),
    resource: resourceFromAttributes({
      'service.name': settings.serviceName,
      'service.version': options.serviceVersion,
      'host.name': hostname(),
      'process.pid': process.pid
    }),
    spanProcessors: [new BatchSpanProcessor({
      exporter,
      maxQueueSize,
      maxExportBatchSize: Math.min(MAX_EXPORT_BATCH_SPANS, maxQueueSize),
      scheduledDelayMillis: options.exportDelayMs ?? EXPORT_DELAY_MS,
      exportTimeoutMillis: exportTimeoutMs,
      selfObsMeterProvider: droppedSpansMeter(counters)
    })]
  })
  const tracer = provider.getTracer('outrigger', options.serviceVersion)
  const propagator = new W3CTraceContextPropagator()
  const traces = new WeakMap<CollectResult, RunTrace>()

  const wrap: RunWrapper = async (source, run) => {
    const span = tracer.startSpan(runSpanName(source), {
      kind: SpanKind.INTERNAL,
      attributes: {
        [ATTR_OUTRIGGER_TARGET]: source.target,
        [ATTR_OUTRIGGER_SOURCE]: sourceLabel(source),
        [ATTR_OUTRIGGER_SOURCE_KIND]: source.kind
      }
    }, ROOT_CONTEXT)
    let result: CollectResult
    try {
      result = await runInSpan(new TracedRun(span, tracer, propagator), run)
    } catch (error) {
      failSpan(span, 'internal', error instanceof Error ? error.message : String(error))
      span.end()
      throw error
    }
    if (result.failure !== undefined) failSpan(span, result.failure.reason, result.failure.message)
    span.end()
    const context = span.spanContext()
    if ((context.traceFlags & TraceFlags.SAMPLED) !== 0) traces.set(result, { traceId: context.traceId, spanId: context.spanId })
    return result
  }

  let closing: Promise<void> | undefined
  return {
    wrap,
    traceOf: (result) => traces.get(result),
    families: () => counters.families(settings.exporter),
    close: () => {
      // An export still stuck when the deadline passes is ended here rather than at its own
      // deadline, so no connection of the exporter outlives close().
      closing ??= withDeadline(provider.shutdown(), CLOSE_DEADLINE_MS).then(() => {
        if (sender instanceof DeadlineSpanExporter) sender.abort()
      })
      return closing
    }
  }
}

/**
 * The sampler `OTEL_TRACES_SAMPLER` names. Runs start new traces, so the `parentbased_*` ones
 * decide by their root sampler; they matter for spans that continue an incoming trace.
 */
export function createSampler (settings: Pick<TracingSettings, 'sampler' | 'samplerArg'>): Sampler {
  const ratio = new TraceIdRatioBasedSampler(settings.samplerArg ?? 1)
  switch (settings.sampler) {
    case 'always_on': return new AlwaysOnSampler()
    case 'always_off': return new AlwaysOffSampler()
    case 'traceidratio': return ratio
    case 'parentbased_always_on': return new ParentBasedSampler({ root: new AlwaysOnSampler() })
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() })
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: ratio })
  }
}

/** `probe http/health`, `scrape stats`, `read process`: bounded by the configuration, readable in Jaeger's operation list. */
function runSpanName (source: Source): string {
  switch (source.kind) {
    case 'stats': return 'scrape stats'
    case 'process': return 'read process'
    default: return `probe ${sourceLabel(source)}`
  }
}

function failSpan (span: Span, reason: FailureReason, message: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message })
  span.setAttribute(ATTR_OUTRIGGER_FAILURE_REASON, reason)
}

function definedAttributes (attributes: SpanAttributes | undefined): Attributes | undefined {
  if (attributes === undefined) return undefined
  const defined: Attributes = {}
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== undefined) defined[key] = value
  }
  return defined
}

/** A span as sources see it: {@link OperationSpan} over an OpenTelemetry span. */
class TracedOperation implements OperationSpan {
  readonly span: Span
  readonly #propagator: W3CTraceContextPropagator
  #ended = false

  constructor (span: Span, propagator: W3CTraceContextPropagator) {
    this.span = span
    this.#propagator = propagator
  }

  setAttributes (attributes: SpanAttributes): void {
    this.span.setAttributes(definedAttributes(attributes) ?? {})
  }

  addEvent (name: string, attributes?: SpanAttributes, timeMs?: number): void {
    this.span.addEvent(name, definedAttributes(attributes), timeMs)
  }

  traceHeaders (): Record<string, string> {
    const headers: Record<string, string> = {}
    this.#propagator.inject(trace.setSpan(ROOT_CONTEXT, this.span), headers, defaultTextMapSetter)
    return headers
  }

  fail (reason: FailureReason, message: string): void {
    failSpan(this.span, reason, message)
  }

  end (timeMs?: number): void {
    if (this.#ended) return
    this.#ended = true
    this.span.end(timeMs)
  }
}

/** The run's span as sources see it. */
class TracedRun implements RunSpan {
  readonly #span: Span
  readonly #tracer: Tracer
  readonly #propagator: W3CTraceContextPropagator

  constructor (span: Span, tracer: Tracer, propagator: W3CTraceContextPropagator) {
    this.#span = span
    this.#tracer = tracer
    this.#propagator = propagator
  }

  setAttributes (attributes: SpanAttributes): void {
    this.#span.setAttributes(definedAttributes(attributes) ?? {})
  }

  addEvent (name: string, attributes?: SpanAttributes, timeMs?: number): void {
    this.#span.addEvent(name, definedAttributes(attributes), timeMs)
  }

  startChild (name: string, options: { kind: 'client' | 'internal', attributes?: SpanAttributes, startTimeMs?: number }): OperationSpan {
    const attributes = definedAttributes(options.attributes)
    const child = this.#tracer.startSpan(name, {
      kind: options.kind === 'client' ? SpanKind.CLIENT : SpanKind.INTERNAL,
      ...(attributes === undefined ? {} : { attributes }),
      ...(options.startTimeMs === undefined ? {} : { startTime: options.startTimeMs })
    }, trace.setSpan(ROOT_CONTEXT, this.#span))
    return new TracedOperation(child, this.#propagator)
  }
}

/**
 * A meter for the batch processor's self-observability hook that keeps only one number: spans
 * dropped because the queue was full (the processor reports no other way). Everything else it
 * would record goes to a no-op meter.
 */
function droppedSpansMeter (counters: TraceExportCounters): MeterProvider {
  const noop = createNoopMeter()
  const dropped: Counter = {
    add: (value, attributes) => {
      if (attributes?.['error.type'] === 'queue_full') counters.spansDropped += value
    }
  }
  const meter: Meter = Object.create(noop) as Meter
  meter.createCounter = ((name: string, options?: Parameters<Meter['createCounter']>[1]) =>
    name === PROCESSED_SPANS_METRIC ? dropped : noop.createCounter(name, options)) as Meter['createCounter']
  return { getMeter: () => meter }
}

/** Resolves when `promise` settles or after `ms`, whichever is first; never rejects. */
async function withDeadline (promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
    timer.unref()
  })
  try {
    await Promise.race([promise.then(() => {}, () => {}), deadline])
  } finally {
    clearTimeout(timer)
  }
}
