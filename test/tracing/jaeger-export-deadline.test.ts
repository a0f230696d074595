/**
 * The Jaeger thrift exporter's hard deadline, against real collectors on loopback that accept and
 * then never answer, or answer 200 and trickle the body: each export ends at its deadline (short
 * here, 5 s in the agent), is counted as failed, its socket is closed by the agent, runs go on,
 * the next export still goes out, and `close()` ends whatever is still in flight.
 */
import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { test, type TestContext } from 'node:test'
import type { TracingSettings } from '../../agent/config/tracing-settings.ts'
import { startTracing, type AgentTracing } from '../../agent/tracing/agent-tracing.ts'
import type { Source } from '../../agent/types.ts'
import { waitUntil } from '../support/wait.ts'

/** Short, so a test sees several deadlines pass; the agent's is 5 s. */
const DEADLINE_MS = 200

type CollectorMode = 'hang' | 'trickle' | 'ok'

/** A Jaeger collector that misbehaves as `mode` says; it never closes a connection itself. */
interface Collector {
  endpoint: string
  mode: CollectorMode
  /** The socket of each request received, in order. */
  readonly sockets: Socket[]
  close (): Promise<void>
}

async function startCollector (t: TestContext, mode: CollectorMode): Promise<Collector> {
  const sockets: Socket[] = []
  const timers = new Set<NodeJS.Timeout>()
  const collector = { endpoint: '', mode, sockets, close: async () => {} }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    sockets.push(req.socket)
    req.resume()
    if (collector.mode === 'ok') {
      res.writeHead(202).end()
    } else if (collector.mode === 'trickle') {
      res.writeHead(200, { 'content-type': 'text/plain' })
      const timer = setInterval(() => { if (!res.destroyed) res.write(' ') }, 20)
      timer.unref()
      timers.add(timer)
      res.once('close', () => clearInterval(timer))
    }
    // hang: the request is read and never answered.
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  collector.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/traces`
  collector.close = async () => {
    for (const timer of timers) clearInterval(timer)
    server.closeAllConnections()
    server.close()
    await once(server, 'close').catch(() => {})
  }
  t.after(() => collector.close())
  return collector
}

function settingsFor (endpoint: string | undefined, jaegerAgent = { host: '127.0.0.1', port: 6832 }): TracingSettings {
  return { exporter: 'jaeger', endpoint, protocol: 'http/protobuf', jaegerAgent, serviceName: 'deadline-test', sampler: 'always_on', samplerArg: undefined }
}

const probe: Source = { id: 'app/tcp/port', target: 'app', kind: 'tcp', intervalSeconds: 60, timeoutSeconds: 5, collect: async () => ({ families: [] }) }

/** A traced run that completes: the probing side of the agent. */
async function run (tracing: AgentTracing): Promise<void> {
  const result = await tracing.wrap(probe, async () => ({ families: [] }))
  assert.deepEqual(result, { families: [] })
}

function counter (tracing: AgentTracing, name: string, result?: string): number {
  const family = tracing.families().find((candidate) => candidate.name === name)
  const sample = family?.samples.find((candidate) => result === undefined || candidate.labels.result === result)
  return sample !== undefined && 'value' in sample ? sample.value : 0
}

async function closed (socket: Socket): Promise<void> {
  if (!socket.destroyed) await once(socket, 'close')
}

/** A stuck collector: the first export's socket is closed by the agent, runs go on, close() completes. */
async function stuckCollector (t: TestContext, mode: 'hang' | 'trickle'): Promise<void> {
  const collector = await startCollector(t, mode)
  const tracing = await startTracing(settingsFor(collector.endpoint), { log: { warn: () => {} }, serviceVersion: '1', exportDelayMs: 10, exportTimeoutMs: DEADLINE_MS })
  t.after(() => tracing.close())

  await run(tracing)
  await waitUntil(() => collector.sockets.length >= 1, { what: 'the first export to reach the collector' })
  // While that export is stuck, runs go on.
  for (let i = 0; i < 3; i++) await run(tracing)
  // The collector never closes a connection: only the agent can have closed this one.
  await closed(collector.sockets[0] as Socket)
  if (mode === 'hang') {
    await waitUntil(() => counter(tracing, 'outrigger_trace_export_failures_total') >= 1, { what: 'the failed export to be counted' })
    assert.ok(counter(tracing, 'outrigger_trace_spans_exported_total', 'failure') >= 1)
  }
  // A trickled 200 reads as a success to the Jaeger client; what matters is that the socket does not stay.
  await tracing.close()
  await Promise.all(collector.sockets.map(closed))
}

test('a Jaeger collector that never answers: the export fails at its deadline and is counted, the agent closes the socket, runs go on, close() completes', { timeout: 60_000 }, async (t) => {
  await stuckCollector(t, 'hang')
})

test('a Jaeger collector that answers 200 and trickles the body: the agent closes the socket at the request deadline, runs go on, close() completes', { timeout: 60_000 }, async (t) => {
  await stuckCollector(t, 'trickle')
})

test('after a Jaeger export missed its deadline, the next export goes through', { timeout: 60_000 }, async (t) => {
  const collector = await startCollector(t, 'hang')
  const tracing = await startTracing(settingsFor(collector.endpoint), { log: { warn: () => {} }, serviceVersion: '1', exportDelayMs: 10, exportTimeoutMs: DEADLINE_MS })
  t.after(() => tracing.close())
  await run(tracing)
  await waitUntil(() => counter(tracing, 'outrigger_trace_export_failures_total') >= 1, { what: 'the first export to fail' })
  await closed(collector.sockets[0] as Socket)
  collector.mode = 'ok'
  await run(tracing)
  await waitUntil(() => counter(tracing, 'outrigger_trace_spans_exported_total', 'success') >= 1, { what: 'an export to succeed after the failed one' })
  await tracing.close()
})

test('close() ends the Jaeger exports still in flight when its flush runs out of time, and closes their sockets', { timeout: 60_000 }, async (t) => {
  const collector = await startCollector(t, 'hang')
  // A deadline far beyond close()'s own: only close() can end these exports.
  const tracing = await startTracing(settingsFor(collector.endpoint), { log: { warn: () => {} }, serviceVersion: '1', exportDelayMs: 10, exportTimeoutMs: 600_000 })
  t.after(() => tracing.close())
  await run(tracing)
  await waitUntil(() => collector.sockets.length >= 1, { what: 'the export to reach the collector' })
  // Queued behind the stuck export: close() flushes it, and that flush hangs as well.
  await run(tracing)
  await tracing.close()
  await waitUntil(() => collector.sockets.length >= 2, { what: 'the flush to send the queued span' })
  await Promise.all(collector.sockets.map(closed))
  assert.equal(counter(tracing, 'outrigger_trace_export_failures_total'), 2)
})

test('Jaeger over UDP with nobody listening: exports complete and runs go on', { timeout: 60_000 }, async (t) => {
  // A port that was free a moment ago: datagrams to it go nowhere.
  const probeSocket = createSocket('udp4')
  probeSocket.bind(0, '127.0.0.1')
  await once(probeSocket, 'listening')
  const port = probeSocket.address().port
  probeSocket.close()
  const tracing = await startTracing(settingsFor(undefined, { host: '127.0.0.1', port }), { log: { warn: () => {} }, serviceVersion: '1', exportDelayMs: 10, exportTimeoutMs: DEADLINE_MS })
  t.after(() => tracing.close())
  await run(tracing)
  await waitUntil(() => counter(tracing, 'outrigger_trace_spans_exported_total', 'success') + counter(tracing, 'outrigger_trace_spans_exported_total', 'failure') >= 1,
    { what: 'the UDP export to report' })
  await run(tracing)
  await tracing.close()
})
