/**
 * The agent's tracing pipeline without a network: spans of runs, the export counters (including
 * spans dropped at a full queue), failure logging, and the attribute names.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SpanStatusCode } from '@opentelemetry/api'
import type { ExportResult } from '@opentelemetry/core'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace'
import * as semconv from '@opentelemetry/semantic-conventions'
import * as incubating from '@opentelemetry/semantic-conventions/incubating'
import type { TracingSettings } from '../../agent/config/tracing-settings.ts'
import { startTracing } from '../../agent/tracing/agent-tracing.ts'
import { CountingSpanExporter } from '../../agent/tracing/counting-exporter.ts'
import { currentRunSpan } from '../../agent/tracing/run-span.ts'
import * as attributes from '../../agent/tracing/span-attributes.ts'
import { TraceExportCounters } from '../../agent/tracing/trace-metrics.ts'
import type { CollectResult, Source } from '../../agent/types.ts'

const settings: TracingSettings = {
  exporter: 'otlp',
  endpoint: 'http://127.0.0.1:1/v1/traces',
  protocol: 'http/protobuf',
  jaegerAgent: { host: 'localhost', port: 6832 },
  serviceName: 'pipeline-test',
  sampler: 'parentbased_always_on',
  samplerArg: undefined
}

function source (id: string): Source {
  const [target = '', kind = 'http'] = id.split('/')
  return { id, target, kind: kind as Source['kind'], intervalSeconds: 60, timeoutSeconds: 5, collect: async () => ({ families: [] }) }
}

const silent = { warn: () => {} }

/** Keeps every exported span, also after shutdown (InMemorySpanExporter forgets them then). */
function collectingExporter (): SpanExporter & { spans: ReadableSpan[] } {
  const spans: ReadableSpan[] = []
  return { spans, export: (batch, done) => { spans.push(...batch); done({ code: 0 }) }, shutdown: async () => {} }
}

test('the attribute names are the semantic conventions\' names', () => {
  const expected: Record<string, string> = {
    ATTR_HTTP_REQUEST_METHOD: semconv.ATTR_HTTP_REQUEST_METHOD,
    ATTR_HTTP_RESPONSE_STATUS_CODE: semconv.ATTR_HTTP_RESPONSE_STATUS_CODE,
    ATTR_HTTP_REQUEST_RESEND_COUNT: semconv.ATTR_HTTP_REQUEST_RESEND_COUNT,
    ATTR_URL_FULL: semconv.ATTR_URL_FULL,
    ATTR_SERVER_ADDRESS: semconv.ATTR_SERVER_ADDRESS,
    ATTR_SERVER_PORT: semconv.ATTR_SERVER_PORT,
    ATTR_ERROR_TYPE: semconv.ATTR_ERROR_TYPE,
    ATTR_NETWORK_TRANSPORT: semconv.ATTR_NETWORK_TRANSPORT,
    ATTR_NETWORK_PROTOCOL_NAME: semconv.ATTR_NETWORK_PROTOCOL_NAME,
    ATTR_DB_SYSTEM_NAME: semconv.ATTR_DB_SYSTEM_NAME,
    ATTR_DB_NAMESPACE: semconv.ATTR_DB_NAMESPACE,
    ATTR_DB_QUERY_TEXT: semconv.ATTR_DB_QUERY_TEXT,
    ATTR_DB_OPERATION_NAME: semconv.ATTR_DB_OPERATION_NAME,
    ATTR_DB_SYSTEM: incubating.ATTR_DB_SYSTEM,
    ATTR_PROCESS_PID: incubating.ATTR_PROCESS_PID,
    DB_SYSTEM_NAME_POSTGRESQL: semconv.DB_SYSTEM_NAME_VALUE_POSTGRESQL
  }
  for (const [name, value] of Object.entries(expected)) {
    assert.equal((attributes as Record<string, unknown>)[name], value, name)
  }
})

test('url.full hides credentials and credential-looking query values', () => {
  assert.equal(attributes.spanUrl('https://user:pw@example.com:8443/a?api_key=k&x=1&Signature=s'), 'https://REDACTED:REDACTED@example.com:8443/a?api_key=REDACTED&x=1&Signature=REDACTED')
  assert.equal(attributes.spanUrl('http://example.com/plain'), 'http://example.com/plain')
})

test('a run is a span: attributes from the source, error status and reason from its failure, exemplar trace when sampled', async (t) => {
  const exporter = collectingExporter()
  const tracing = await startTracing(settings, { log: silent, serviceVersion: '9.9.9', exporter })
  t.after(() => tracing.close())
  const ok = await tracing.wrap(source('app/http/health'), async () => {
    currentRunSpan()?.setAttributes({ 'url.full': 'http://app/health', skipped: undefined })
    return { families: [] }
  })
  const failed = await tracing.wrap(source('app/postgres/db'), async () => ({ families: [], failure: { reason: 'auth', message: 'password authentication failed' } }))
  await assert.rejects(tracing.wrap(source('app/tcp/port'), async () => { throw new Error('bug in a source') }), /bug in a source/)
  await tracing.close()
  const spans = exporter.spans
  const byName = (name: string): ReadableSpan | undefined => spans.find((span) => span.name === name)

  const health = byName('probe http/health')
  assert.deepEqual(health?.attributes, { 'outrigger.target': 'app', 'outrigger.source': 'http/health', 'outrigger.source.kind': 'http', 'url.full': 'http://app/health' })
  assert.equal(health?.status.code, SpanStatusCode.UNSET)
  assert.equal(health?.resource.attributes['service.name'], 'pipeline-test')
  assert.equal(health?.resource.attributes['service.version'], '9.9.9')
  assert.deepEqual(tracing.traceOf(ok), { traceId: health?.spanContext().traceId, spanId: health?.spanContext().spanId })

  const db = byName('probe postgres/db')
  assert.equal(db?.status.code, SpanStatusCode.ERROR)
  assert.equal(db?.status.message, 'password authentication failed')
  assert.equal(db?.attributes['outrigger.failure.reason'], 'auth')
  assert.ok(tracing.traceOf(failed) !== undefined)

  assert.equal(byName('probe tcp/port')?.attributes['outrigger.failure.reason'], 'internal')
})

test('a sampler that says no: spans are not exported and no exemplar trace is kept', async (t) => {
  const exporter = collectingExporter()
  const tracing = await startTracing({ ...settings, sampler: 'traceidratio', samplerArg: 0 }, { log: silent, serviceVersion: '1', exporter })
  t.after(() => tracing.close())
  const result = await tracing.wrap(source('app/http/health'), async () => ({ families: [] }))
  await tracing.close()
  assert.equal(tracing.traceOf(result), undefined)
  assert.deepEqual(exporter.spans, [])
})

test('a full queue drops spans and counts them; runs never wait for the exporter', async (t) => {
  let release: ((result: ExportResult) => void) | undefined
  let calls = 0
  const exported: ReadableSpan[] = []
  // The first export hangs until released, as a collector that stopped answering would.
  const stuck: SpanExporter = {
    export: (spans, done) => {
      calls++
      exported.push(...spans)
      if (calls === 1) release = done
      else done({ code: 0 })
    },
    shutdown: async () => {}
  }
  const tracing = await startTracing(settings, { log: silent, serviceVersion: '1', exporter: stuck, maxQueuedSpans: 2, exportDelayMs: 60_000 })
  t.after(() => tracing.close())
  const results: CollectResult[] = []
  for (let i = 0; i < 7; i++) results.push(await tracing.wrap(source('app/http/health'), async () => ({ families: [] })))
  assert.equal(results.length, 7, 'every run completed while the export hung')
  const count = (name: string, labels = ''): number => {
    const family = tracing.families().find((candidate) => candidate.name === name)
    const sample = family?.samples.find((candidate) => labels === '' || (candidate.labels as Record<string, string>).result === labels)
    return sample !== undefined && 'value' in sample ? sample.value : Number.NaN
  }
  // Two went to the stuck export, two wait in the queue, three found it full.
  assert.equal(count('outrigger_trace_spans_dropped_total'), 3)
  assert.ok(release !== undefined)
  release({ code: 0 })
  await tracing.close()
  assert.equal(count('outrigger_trace_spans_exported_total', 'success'), 4)
  assert.equal(exported.length, 4)
})

test('failed exports are counted per span and per request; the log is rate-limited', async () => {
  const counters = new TraceExportCounters()
  const logged: string[] = []
  let now = 0
  const failing: SpanExporter = {
    export: (_spans, done) => { done({ code: 1, error: new Error('connect ECONNREFUSED 127.0.0.1:4318') }) },
    shutdown: async () => {}
  }
  const throwing: SpanExporter = {
    export: () => { throw new Error('exporter bug') },
    shutdown: async () => {}
  }
  const log = { warn: (_fields: Record<string, unknown>, message: string) => { logged.push(message) } }
  const exporter = new CountingSpanExporter(failing, counters, log, () => now)
  const results: ExportResult[] = []
  const spans = [{}, {}, {}] as unknown as ReadableSpan[]
  exporter.export(spans, (result) => results.push(result))
  now += 1_000
  exporter.export(spans, (result) => results.push(result))
  now += 60_000
  exporter.export(spans.slice(0, 1), (result) => results.push(result))
  new CountingSpanExporter(throwing, counters, log, () => now).export(spans, (result) => results.push(result))
  assert.deepEqual(results.map((result) => result.code), [1, 1, 1, 1])
  assert.equal(counters.spansFailed, 10)
  assert.equal(counters.exportFailures, 4)
  assert.equal(counters.spansExported, 0)
  assert.deepEqual(logged, [
    'trace export failed: connect ECONNREFUSED 127.0.0.1:4318',
    'trace export failed: connect ECONNREFUSED 127.0.0.1:4318',
    'trace export failed: exporter bug'
  ])
})
