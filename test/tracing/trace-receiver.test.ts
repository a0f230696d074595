/**
 * The test trace receiver's Jaeger agent side for clients other than the JS exporter: the compact
 * protocol (a Jaeger agent's port 6831), encoded here with the Apache Thrift library's writer.
 */
import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { test } from 'node:test'
import thrift from 'thrift'
import type { TProtocol } from 'thrift'
import { startTraceReceiver } from '../support/trace-receiver.ts'

const T = thrift.Thrift.Type

function writeTag (protocol: TProtocol, key: string, value: string | number | boolean): void {
  protocol.writeStructBegin('Tag')
  protocol.writeFieldBegin('key', T.STRING, 1)
  protocol.writeString(key)
  protocol.writeFieldEnd()
  protocol.writeFieldBegin('vType', T.I32, 2)
  protocol.writeI32(typeof value === 'string' ? 0 : typeof value === 'boolean' ? 2 : 3)
  protocol.writeFieldEnd()
  if (typeof value === 'string') {
    protocol.writeFieldBegin('vStr', T.STRING, 3)
    protocol.writeString(value)
  } else if (typeof value === 'boolean') {
    protocol.writeFieldBegin('vBool', T.BOOL, 5)
    protocol.writeBool(value)
  } else {
    protocol.writeFieldBegin('vLong', T.I64, 6)
    protocol.writeI64(value)
  }
  protocol.writeFieldEnd()
  protocol.writeFieldStop()
  protocol.writeStructEnd()
}

function writeI64Field (protocol: TProtocol, name: string, id: number, value: number): void {
  protocol.writeFieldBegin(name, T.I64, id)
  protocol.writeI64(value)
  protocol.writeFieldEnd()
}

/** `Agent.emitBatch` with one child span, compact protocol, as a Jaeger client in Go or Java sends it. */
function compactEmitBatch (): Buffer {
  let datagram: Buffer | undefined
  const transport = new thrift.TBufferedTransport(undefined, (message?: Buffer) => { datagram = message })
  const protocol = new thrift.TCompactProtocol(transport)
  protocol.writeMessageBegin('emitBatch', thrift.Thrift.MessageType.ONEWAY, 1)
  protocol.writeStructBegin('emitBatch_args')
  protocol.writeFieldBegin('batch', T.STRUCT, 1)
  protocol.writeStructBegin('Batch')
  protocol.writeFieldBegin('process', T.STRUCT, 1)
  protocol.writeStructBegin('Process')
  protocol.writeFieldBegin('serviceName', T.STRING, 1)
  protocol.writeString('compact-client')
  protocol.writeFieldEnd()
  protocol.writeFieldStop()
  protocol.writeStructEnd()
  protocol.writeFieldEnd()
  protocol.writeFieldBegin('spans', T.LIST, 2)
  protocol.writeListBegin(T.STRUCT, 1)
  protocol.writeStructBegin('Span')
  writeI64Field(protocol, 'traceIdLow', 1, 0x0102)
  writeI64Field(protocol, 'traceIdHigh', 2, 0x0a0b)
  writeI64Field(protocol, 'spanId', 3, 0x0c)
  writeI64Field(protocol, 'parentSpanId', 4, 0x0d)
  protocol.writeFieldBegin('operationName', T.STRING, 5)
  protocol.writeString('GET /items')
  protocol.writeFieldEnd()
  protocol.writeFieldBegin('flags', T.I32, 7)
  protocol.writeI32(1)
  protocol.writeFieldEnd()
  writeI64Field(protocol, 'startTime', 8, 1_700_000_000_000_000)
  writeI64Field(protocol, 'duration', 9, 1500)
  protocol.writeFieldBegin('tags', T.LIST, 10)
  protocol.writeListBegin(T.STRUCT, 4)
  writeTag(protocol, 'span.kind', 'server')
  writeTag(protocol, 'http.response.status_code', 500)
  writeTag(protocol, 'otel.status_code', 'ERROR')
  writeTag(protocol, 'error', true)
  protocol.writeListEnd()
  protocol.writeFieldEnd()
  protocol.writeFieldStop()
  protocol.writeStructEnd()
  protocol.writeListEnd()
  protocol.writeFieldEnd()
  protocol.writeFieldStop()
  protocol.writeStructEnd()
  protocol.writeFieldEnd()
  protocol.writeFieldStop()
  protocol.writeStructEnd()
  protocol.writeMessageEnd()
  transport.flush()
  assert.ok(datagram !== undefined)
  return datagram
}

test('a compact-protocol emitBatch datagram is decoded like a binary one', async (t) => {
  const receiver = await startTraceReceiver()
  t.after(() => receiver.close())
  const socket = createSocket('udp4')
  t.after(() => { socket.close() })
  const datagram = compactEmitBatch()
  assert.equal(datagram[0], 0x82, 'compact protocol id')
  await new Promise<void>((resolve, reject) => socket.send(datagram, receiver.udpPort, '127.0.0.1', (error) => { if (error == null) resolve(); else reject(error) }))
  const [span] = await receiver.waitFor((spans) => spans.length > 0)
  assert.deepEqual(receiver.decodeErrors, [])
  assert.equal(span?.transport, 'jaeger-udp-compact')
  assert.equal(span?.serviceName, 'compact-client')
  assert.equal(span?.traceId, '0000000000000a0b0000000000000102')
  assert.equal(span?.spanId, '000000000000000c')
  assert.equal(span?.parentSpanId, '000000000000000d')
  assert.equal(span?.name, 'GET /items')
  assert.equal(span?.kind, 'server')
  assert.equal(span?.startTimeUnixNano, 1_700_000_000_000_000_000n)
  assert.equal(span?.endTimeUnixNano, 1_700_000_000_001_500_000n)
  assert.deepEqual(span?.attributes, { 'http.response.status_code': 500 })
  assert.deepEqual(span?.status, { code: 'error', message: undefined })
})
