import { test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { once } from 'node:events'
import { TcpProbe } from '../../agent/sources/tcp-probe.ts'
import type { TcpProbeOptions } from '../../agent/sources/tcp-probe.ts'
import { assertFailure, assertSuccess, deadline, sampleValue as value } from '../support/collect-assertions.ts'
import { waitUntil } from '../support/wait.ts'

/** Starts a TCP server on 127.0.0.1:0 and closes it, with every connection, after the test. */
async function listen (t: TestContext, onConnection: (socket: net.Socket) => void, port = 0): Promise<{ server: net.Server, port: number }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    onConnection(socket)
  })
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => {
    for (const socket of sockets) socket.destroy()
    server.close()
  })
  return { server, port: (server.address() as AddressInfo).port }
}

function probe (port: number, extra: Partial<TcpProbeOptions> = {}): TcpProbe {
  return new TcpProbe({ target: 'db', name: 'port', host: '127.0.0.1', port, intervalSeconds: 10, timeoutSeconds: 5, ...extra })
}

test('a listening port succeeds, labelled from config, and the connection is closed', async (t) => {
  let closed = 0
  const { port } = await listen(t, (socket) => socket.on('close', () => { closed++ }))
  const instance = probe(port)
  const result = await instance.collect(deadline())
  assertSuccess(result)
  assert.equal(instance.id, 'db/tcp/port')
  assert.equal(instance.kind, 'tcp')
  assert.deepEqual(result.families.map((f) => f.name), ['probe_success', 'probe_duration_seconds', 'probe_dns_lookup_time_seconds'])
  for (const family of result.families) assert.deepEqual(family.samples[0]?.labels, { target: 'db', probe: 'port' })
  await waitUntil(() => closed === 1, { what: 'the probe to close its connection' })
})

test('a closed port fails with refused, then a server on that port succeeds', async (t) => {
  const dead = net.createServer()
  dead.listen(0, '127.0.0.1')
  await once(dead, 'listening')
  const port = (dead.address() as AddressInfo).port
  dead.close()
  await once(dead, 'close')
  const instance = probe(port)
  assertFailure(await instance.collect(deadline()), 'refused')
  await listen(t, () => {}, port)
  assertSuccess(await instance.collect(deadline()))
})

test('send/expect: an answer that does not match fails with body_mismatch, then a matching one succeeds', async (t) => {
  let reply = 'ERR unknown command\r\n'
  const seen: string[] = []
  const { port } = await listen(t, (socket) => {
    socket.setEncoding('utf8')
    socket.on('data', (text: string) => {
      seen.push(text)
      if (text.includes('\n')) socket.end(reply)
    })
  })
  const instance = probe(port, { send: 'PING\r\n', expect: '^\\+PONG' })
  const failed = await instance.collect(deadline())
  assertFailure(failed, 'body_mismatch')
  assert.equal(value(failed, 'probe_failed_due_to_regex'), 1)
  assert.equal(seen.join(''), 'PING\r\n')
  reply = '+PONG\r\n'
  const ok = await instance.collect(deadline())
  assertSuccess(ok)
  assert.equal(value(ok, 'probe_failed_due_to_regex'), 0)
})

test('expect across several packets matches once enough has arrived; past the read limit it fails', async (t) => {
  let greeting = ['SSH-2.0-', 'OpenSSH_9.2\r\n']
  const { port } = await listen(t, (socket) => {
    socket.setNoDelay(true)
    socket.write(greeting[0] ?? '')
    // Two writes, usually two reads on the probe's side; the match must not depend on it either way.
    setImmediate(() => socket.write(greeting[1] ?? ''))
  })
  const instance = probe(port, { expect: 'SSH-2\\.0-OpenSSH', readLimitBytes: 16 })
  assertSuccess(await instance.collect(deadline()))
  greeting = ['x'.repeat(40), '']
  const failed = await instance.collect(deadline())
  assertFailure(failed, 'body_mismatch')
  assert.match(failed.failure?.message ?? '', /first 16 bytes/)
})

test('a server that never answers fails with timeout at the deadline, then an answer succeeds', async (t) => {
  let answer = false
  const { port } = await listen(t, (socket) => { if (answer) socket.write('ready\n') })
  const instance = probe(port, { expect: 'ready' })
  const failed = await instance.collect(AbortSignal.timeout(1000))
  assertFailure(failed, 'timeout')
  assert.match(failed.failure?.message ?? '', /ready/)
  answer = true
  assertSuccess(await instance.collect(deadline()))
})

test('an expect that is not a regular expression is refused at construction', () => {
  assert.throws(() => probe(1, { expect: '(' }), { code: 'OUTRIGGER_ERR_CONFIG_INVALID' })
})
