/**
 * A trace backend for tests that decodes what really goes over the wire, on loopback ports:
 *
 * - OTLP over HTTP at `POST /v1/traces`: `application/json` (OTLP/JSON) and
 *   `application/x-protobuf` (decoded with protobufjs from the OTLP .proto definitions);
 * - Jaeger thrift over HTTP at `POST /api/traces`: a binary-protocol `Batch`, as a Jaeger
 *   collector takes it;
 * - Jaeger thrift over UDP: an `Agent.emitBatch` message, binary protocol (what the JS Jaeger
 *   exporter sends, a Jaeger agent's port 6832) or compact protocol (port 6831, other clients),
 *   told apart by the first byte.
 *
 * Thrift is read with the Apache Thrift library's protocol readers (a maintained decoder; no code
 * generation needed: a generic reader walks the fields and the Jaeger IDL's field ids name them).
 * Every span, whatever its transport, becomes one {@link ReceivedSpan}.
 */
import { EventEmitter, once } from 'node:events'
import { createSocket } from 'node:dgram'
import type { Socket as UdpSocket } from 'node:dgram'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import protobuf from 'protobufjs'
import thrift from 'thrift'
import type { TProtocol } from 'thrift'
import { OTLP_TRACE_PROTO_FILES } from './otlp-trace.proto.ts'

/** How a span reached the receiver. */
export type TraceTransport = 'otlp-json' | 'otlp-protobuf' | 'jaeger-http' | 'jaeger-udp-binary' | 'jaeger-udp-compact'

export type SpanKindName = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer'

/** One span as received, the same shape for every transport. */
export interface ReceivedSpan {
  transport: TraceTransport
  serviceName: string
  /** 32 lowercase hex digits. */
  traceId: string
  /** 16 lowercase hex digits. */
  spanId: string
  /** Undefined for a root span. */
  parentSpanId: string | undefined
  name: string
  kind: SpanKindName
  startTimeUnixNano: bigint
  endTimeUnixNano: bigint
  attributes: Record<string, unknown>
  events: Array<{ name: string, timeUnixNano: bigint, attributes: Record<string, unknown> }>
  status: { code: 'unset' | 'ok' | 'error', message: string | undefined }
  /** Resource attributes (OTLP), or the process tags (Jaeger). */
  resource: Record<string, unknown>
}

/** One request or datagram the receiver took. */
export interface ReceivedRequest {
  transport: TraceTransport
  contentType: string | undefined
  spans: number
}

/** A running receiver; see the file comment. */
export interface TraceReceiver {
  /** OTLP base URL, `http://127.0.0.1:PORT` (exporters append `/v1/traces`). */
  readonly otlpEndpoint: string
  /** The full OTLP traces URL. */
  readonly otlpTracesUrl: string
  /** The Jaeger collector URL, `http://127.0.0.1:PORT/api/traces`. */
  readonly jaegerEndpoint: string
  /** The UDP port taking `emitBatch` datagrams on 127.0.0.1. */
  readonly udpPort: number
  /** Every span received so far, in arrival order. */
  readonly spans: readonly ReceivedSpan[]
  readonly requests: readonly ReceivedRequest[]
  /** Problems decoding a request (each also answered 400); a test can assert there were none. */
  readonly decodeErrors: readonly string[]
  /**
   * Resolves with the spans once `predicate` holds for them; rejects after `timeoutMs` (default
   * 15000) naming what was received.
   */
  waitFor (predicate: (spans: readonly ReceivedSpan[]) => boolean, options?: { timeoutMs?: number, what?: string }): Promise<readonly ReceivedSpan[]>
  /** Stops listening; safe to call twice. */
  close (): Promise<void>
}

/** Largest request body read, in bytes. */
const BODY_LIMIT_BYTES = 16 * 1024 * 1024

/** Starts a receiver on free loopback ports. */
export async function startTraceReceiver (): Promise<TraceReceiver> {
  const spans: ReceivedSpan[] = []
  const requests: ReceivedRequest[] = []
  const decodeErrors: string[] = []
  const arrivals = new EventEmitter()
  const protoRoot = new protobuf.Root()
  for (const file of OTLP_TRACE_PROTO_FILES) protobuf.parse(file, protoRoot, { keepCase: false })
  protoRoot.resolveAll()
  const exportRequest = protoRoot.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest')

  const accept = (transport: TraceTransport, contentType: string | undefined, received: ReceivedSpan[]): void => {
    spans.push(...received)
    requests.push({ transport, contentType, spans: received.length })
    arrivals.emit('spans')
  }

  const server: Server = createServer((req, res) => {
    void handle(req, res)
  })
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let body: Buffer
    try {
      body = await readBody(req)
    } catch (error) {
      res.writeHead(413).end(String(error))
      return
    }
    const contentType = req.headers['content-type']?.split(';')[0]?.trim()
    const path = new URL(req.url ?? '/', 'http://receiver').pathname
    try {
      if (req.method === 'POST' && path === '/v1/traces' && contentType === 'application/json') {
        accept('otlp-json', contentType, fromOtlp(JSON.parse(body.toString('utf8')) as OtlpRequest, 'otlp-json'))
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      } else if (req.method === 'POST' && path === '/v1/traces' && contentType === 'application/x-protobuf') {
        const decoded = exportRequest.toObject(exportRequest.decode(body), { longs: String, bytes: Buffer, defaults: false }) as OtlpRequest
        accept('otlp-protobuf', contentType, fromOtlp(decoded, 'otlp-protobuf'))
        // An empty ExportTraceServiceResponse encodes to no bytes.
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
      } else if (req.method === 'POST' && path === '/api/traces') {
        const protocol = new thrift.TBinaryProtocol(new thrift.TFramedTransport(body))
        accept('jaeger-http', contentType, fromJaegerBatch(readStruct(protocol), 'jaeger-http'))
        res.writeHead(202).end()
      } else {
        res.writeHead(404).end()
      }
    } catch (error) {
      decodeErrors.push(`${req.method ?? ''} ${path} (${contentType ?? 'no content type'}): ${(error as Error).message}`)
      res.writeHead(400).end((error as Error).message)
    }
  }
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port

  const udp: UdpSocket = createSocket('udp4')
  udp.on('message', (datagram) => {
    try {
      const compact = datagram[0] === 0x82
      const protocol = compact
        ? new thrift.TCompactProtocol(new thrift.TFramedTransport(datagram))
        : new thrift.TBinaryProtocol(new thrift.TFramedTransport(datagram))
      const message = protocol.readMessageBegin()
      if (message.fname !== 'emitBatch') throw new Error(`unexpected method ${message.fname}`)
      const args = readStruct(protocol)
      const transport: TraceTransport = compact ? 'jaeger-udp-compact' : 'jaeger-udp-binary'
      accept(transport, undefined, fromJaegerBatch(args.get(1) as ThriftStruct, transport))
    } catch (error) {
      decodeErrors.push(`UDP datagram of ${datagram.length} bytes: ${(error as Error).message}`)
    }
  })
  udp.bind(0, '127.0.0.1')
  await once(udp, 'listening')

  let closing: Promise<void> | undefined
  return {
    otlpEndpoint: `http://127.0.0.1:${port}`,
    otlpTracesUrl: `http://127.0.0.1:${port}/v1/traces`,
    jaegerEndpoint: `http://127.0.0.1:${port}/api/traces`,
    udpPort: udp.address().port,
    spans,
    requests,
    decodeErrors,
    waitFor: async (predicate, options = {}) => {
      const timeoutMs = options.timeoutMs ?? 15_000
      if (predicate(spans)) return spans
      const deadline = AbortSignal.timeout(timeoutMs)
      try {
        while (true) {
          await once(arrivals, 'spans', { signal: deadline })
          if (predicate(spans)) return spans
        }
      } catch (error) {
        if (!deadline.aborted) throw error
        const seen = spans.map((span) => `${span.name} (${span.transport})`).join(', ') || 'nothing'
        throw new Error(`no ${options.what ?? 'matching spans'} within ${timeoutMs} ms; received: ${seen}${decodeErrors.length > 0 ? `; decode errors: ${decodeErrors.join('; ')}` : ''}`, { cause: error })
      }
    },
    close: () => {
      closing ??= (async () => {
        udp.close()
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      })()
      return closing
    }
  }
}

async function readBody (req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > BODY_LIMIT_BYTES) throw new Error(`body over ${BODY_LIMIT_BYTES} bytes`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

// --- OTLP -----------------------------------------------------------------------------------

/** OTLP/JSON and protobufjs's object form share this shape; ids are hex (JSON) or bytes (protobuf). */
interface OtlpRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpKeyValue[] }
    scopeSpans?: Array<{ spans?: OtlpSpan[] }>
  }>
}
interface OtlpKeyValue { key: string, value?: OtlpAnyValue }
interface OtlpAnyValue {
  stringValue?: string
  boolValue?: boolean
  intValue?: string | number
  doubleValue?: number
  arrayValue?: { values?: OtlpAnyValue[] }
  kvlistValue?: { values?: OtlpKeyValue[] }
  bytesValue?: string | Uint8Array
}
interface OtlpSpan {
  traceId: string | Uint8Array
  spanId: string | Uint8Array
  parentSpanId?: string | Uint8Array
  name: string
  kind?: number
  startTimeUnixNano: string | number
  endTimeUnixNano: string | number
  attributes?: OtlpKeyValue[]
  events?: Array<{ name: string, timeUnixNano: string | number, attributes?: OtlpKeyValue[] }>
  status?: { code?: number, message?: string }
}

const OTLP_KINDS: readonly SpanKindName[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer']
const OTLP_STATUS: ReadonlyArray<ReceivedSpan['status']['code']> = ['unset', 'ok', 'error']

function fromOtlp (request: OtlpRequest, transport: TraceTransport): ReceivedSpan[] {
  const received: ReceivedSpan[] = []
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = otlpAttributes(resourceSpans.resource?.attributes)
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        const parent = span.parentSpanId === undefined ? '' : otlpId(span.parentSpanId)
        received.push({
          transport,
          serviceName: String(resource['service.name'] ?? ''),
          traceId: otlpId(span.traceId),
          spanId: otlpId(span.spanId),
          parentSpanId: parent === '' ? undefined : parent,
          name: span.name,
          kind: OTLP_KINDS[span.kind ?? 0] ?? 'unspecified',
          startTimeUnixNano: BigInt(span.startTimeUnixNano),
          endTimeUnixNano: BigInt(span.endTimeUnixNano),
          attributes: otlpAttributes(span.attributes),
          events: (span.events ?? []).map((event) => ({ name: event.name, timeUnixNano: BigInt(event.timeUnixNano), attributes: otlpAttributes(event.attributes) })),
          status: { code: OTLP_STATUS[span.status?.code ?? 0] ?? 'unset', message: span.status?.message === '' ? undefined : span.status?.message },
          resource
        })
      }
    }
  }
  return received
}

/** OTLP/JSON sends ids as hex, as its spec says (not base64, protobuf's usual JSON mapping). */
function otlpId (id: string | Uint8Array): string {
  return typeof id === 'string' ? id.toLowerCase() : Buffer.from(id).toString('hex')
}

function otlpAttributes (list: OtlpKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((entry) => [entry.key, otlpValue(entry.value)]))
}

function otlpValue (value: OtlpAnyValue | undefined): unknown {
  if (value === undefined) return undefined
  if (value.stringValue !== undefined) return value.stringValue
  if (value.boolValue !== undefined) return value.boolValue
  if (value.intValue !== undefined) return Number(value.intValue)
  if (value.doubleValue !== undefined) return value.doubleValue
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(otlpValue)
  if (value.kvlistValue !== undefined) return otlpAttributes(value.kvlistValue.values)
  if (value.bytesValue !== undefined) return value.bytesValue
  return undefined
}

// --- Jaeger thrift --------------------------------------------------------------------------

/** A decoded thrift struct: field id to value. Lists are arrays, i64 are bigint. */
type ThriftStruct = Map<number, unknown>

const T = thrift.Thrift.Type

function readValue (protocol: TProtocol, type: number): unknown {
  switch (type) {
    case T.BOOL: return protocol.readBool()
    case T.BYTE: return protocol.readByte()
    case T.I16: return protocol.readI16()
    case T.I32: return protocol.readI32()
    case T.I64: return BigInt.asIntN(64, BigInt(`0x${protocol.readI64().toOctetString()}`))
    case T.DOUBLE: return protocol.readDouble()
    case T.STRING: return protocol.readString()
    case T.STRUCT: return readStruct(protocol)
    case T.LIST:
    case T.SET: {
      const header = type === T.LIST ? protocol.readListBegin() : protocol.readSetBegin()
      const items: unknown[] = []
      for (let i = 0; i < header.size; i++) items.push(readValue(protocol, header.etype))
      if (type === T.LIST) protocol.readListEnd()
      else protocol.readSetEnd()
      return items
    }
    case T.MAP: {
      const header = protocol.readMapBegin()
      const entries = new Map<unknown, unknown>()
      for (let i = 0; i < header.size; i++) entries.set(readValue(protocol, header.ktype), readValue(protocol, header.vtype))
      protocol.readMapEnd()
      return entries
    }
    default:
      throw new Error(`thrift type ${type} is not one the Jaeger IDL uses`)
  }
}

function readStruct (protocol: TProtocol): ThriftStruct {
  const fields: ThriftStruct = new Map()
  protocol.readStructBegin()
  while (true) {
    const field = protocol.readFieldBegin()
    if (field.ftype === T.STOP) break
    fields.set(field.fid, readValue(protocol, field.ftype))
    protocol.readFieldEnd()
  }
  protocol.readStructEnd()
  return fields
}

// Field ids of jaeger.thrift (jaeger-idl): Batch, Process, Span, Tag, Log.
const BATCH = { process: 1, spans: 2 }
const PROCESS = { serviceName: 1, tags: 2 }
const SPAN = { traceIdLow: 1, traceIdHigh: 2, spanId: 3, parentSpanId: 4, operationName: 5, startTime: 8, duration: 9, tags: 10, logs: 11 }
const TAG = { key: 1, vType: 2, vStr: 3, vDouble: 4, vBool: 5, vLong: 6, vBinary: 7 }
const LOG = { timestamp: 1, fields: 2 }
/** Tags the OpenTelemetry Jaeger exporter writes for the span's status and kind. */
const STATUS_TAGS = new Set(['otel.status_code', 'otel.status_description', 'error', 'span.kind'])

function fromJaegerBatch (batch: ThriftStruct, transport: TraceTransport): ReceivedSpan[] {
  const process = batch.get(BATCH.process) as ThriftStruct
  const serviceName = String(process.get(PROCESS.serviceName))
  const resource = jaegerTags(process.get(PROCESS.tags))
  return ((batch.get(BATCH.spans) ?? []) as ThriftStruct[]).map((span) => {
    const tags = jaegerTags(span.get(SPAN.tags))
    const parent = span.get(SPAN.parentSpanId) as bigint
    const startMicros = span.get(SPAN.startTime) as bigint
    const statusCode = tags['otel.status_code']
    return {
      transport,
      serviceName,
      traceId: hex64(span.get(SPAN.traceIdHigh) as bigint) + hex64(span.get(SPAN.traceIdLow) as bigint),
      spanId: hex64(span.get(SPAN.spanId) as bigint),
      parentSpanId: parent === 0n ? undefined : hex64(parent),
      name: String(span.get(SPAN.operationName)),
      kind: typeof tags['span.kind'] === 'string' ? tags['span.kind'] as SpanKindName : 'internal',
      startTimeUnixNano: startMicros * 1000n,
      endTimeUnixNano: (startMicros + (span.get(SPAN.duration) as bigint)) * 1000n,
      attributes: Object.fromEntries(Object.entries(tags).filter(([key]) => !STATUS_TAGS.has(key))),
      events: ((span.get(SPAN.logs) ?? []) as ThriftStruct[]).map((log) => {
        const fields = jaegerTags(log.get(LOG.fields))
        const { event, ...attributes } = fields
        return { name: String(event), timeUnixNano: (log.get(LOG.timestamp) as bigint) * 1000n, attributes }
      }),
      status: {
        code: statusCode === 'ERROR' ? 'error' : statusCode === 'OK' ? 'ok' : 'unset',
        message: tags['otel.status_description'] as string | undefined
      },
      resource
    }
  })
}

function jaegerTags (list: unknown): Record<string, unknown> {
  return Object.fromEntries(((list ?? []) as ThriftStruct[]).map((tag) => {
    const key = String(tag.get(TAG.key))
    switch (tag.get(TAG.vType)) {
      case 0: return [key, tag.get(TAG.vStr)]
      case 1: return [key, tag.get(TAG.vDouble)]
      case 2: return [key, tag.get(TAG.vBool)]
      case 3: return [key, Number(tag.get(TAG.vLong))]
      default: return [key, tag.get(TAG.vBinary)]
    }
  }))
}

function hex64 (value: bigint): string {
  return BigInt.asUintN(64, value).toString(16).padStart(16, '0')
}
