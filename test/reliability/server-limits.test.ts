/**
 * Header and body size limits on the demo app and the upstream service (the agent's are in
 * agent-security.test.ts): an oversized header block gets 431, an oversized body is refused and the
 * connection closed long before 50 MB have been sent, and the server keeps serving.
 */
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { startUpstream } from '../../demo-app/upstream/server.ts'
import { startTestApp } from '../demo-app/test-app.ts'
import { rawExchange } from './raw-http.ts'

const FIFTY_MB = 50 * 1024 * 1024
/** Far below 50 MB, far above socket buffers: the server stopped reading early. */
const CUT_EARLY_BYTES = 20 * 1024 * 1024

async function assertLimits (baseUrl: string, bodyPath: string, healthyPath: string): Promise<void> {
  const big = await fetch(`${baseUrl}${healthyPath}`, { headers: { 'x-padding': 'x'.repeat(20 * 1024) } })
  assert.equal(big.status, 431, `${baseUrl}: a 20 KiB header block`)
  for (const chunked of [false, true]) {
    const head = chunked
      ? `POST ${bodyPath} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`
      : `POST ${bodyPath} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${FIFTY_MB}\r\n\r\n`
    const answer = await rawExchange(baseUrl, head, { streamBytes: FIFTY_MB, chunked })
    assert.equal(answer.status, 413, `${baseUrl}${bodyPath} ${chunked ? 'chunked' : 'declared'}: ${answer.text.slice(0, 200)}`)
    assert.ok(answer.bytesWritten < CUT_EARLY_BYTES, `${baseUrl}${bodyPath} ${chunked ? 'chunked' : 'declared'}: ${answer.bytesWritten} bytes were taken`)
  }
  assert.equal((await fetch(`${baseUrl}${healthyPath}`)).status, 200, 'the server keeps serving')
}

test('demo app: 431 for a 20 KiB header block, 413 for a 50 MB body cut early, declared or chunked', async (t) => {
  const { app } = await startTestApp(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  await assertLimits(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, '/api/items', '/api/items/1')
})

test('upstream service: 431 for a 20 KiB header block, 413 for a 50 MB body cut early, declared or chunked', async (t) => {
  const upstream = await startUpstream()
  t.after(() => upstream.close())
  await assertLimits(upstream.url, '/quote', '/health')
})
