/**
 * The agent in a process of its own: what tracing loads (nothing of the SDK with `none`, only the
 * configured exporter otherwise), and that the process exits by itself after `close()` even while
 * an export to a dead backend is pending.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { freePort } from '../support/postgres.ts'

const FIXTURE = fileURLToPath(new URL('./fixtures/agent-once.ts', import.meta.url))

async function runAgentOnce (tracing: string): Promise<{ code: number | null, loaded: string[], output: string }> {
  const deadPort = await freePort()
  const child = spawn(process.execPath, [FIXTURE, tracing, `http://127.0.0.1:${deadPort}/`], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString('utf8') })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString('utf8') })
  // The process has to end by itself: nothing here kills it. The deadline only turns a hang into a failure.
  const timer = setTimeout(() => { child.kill('SIGKILL') }, 30_000)
  const [code] = await once(child, 'exit') as [number | null]
  clearTimeout(timer)
  const line = output.split('\n').find((candidate) => candidate.startsWith('{"loaded"'))
  assert.ok(line !== undefined, `no report from the agent process:\n${output}`)
  return { code, loaded: (JSON.parse(line) as { loaded: string[] }).loaded, output }
}

test('exporter none loads no OpenTelemetry SDK or exporter, and the process exits by itself', async () => {
  const { code, loaded, output } = await runAgentOnce('{ exporter: none }')
  assert.equal(code, 0, output)
  // prom-client loads the API itself when it is installed (for exemplars from the active context).
  assert.deepEqual(loaded.filter((name) => name !== '@opentelemetry/api'), [])
})

test('otlp loads only the protobuf OTLP exporter; with the backend dead the process still exits by itself after close()', async () => {
  const port = await freePort()
  const { code, loaded, output } = await runAgentOnce(`{ exporter: otlp, endpoint: "http://127.0.0.1:${port}" }`)
  assert.equal(code, 0, output)
  assert.ok(loaded.includes('@opentelemetry/sdk-trace'))
  assert.ok(loaded.includes('@opentelemetry/exporter-trace-otlp-proto'))
  for (const other of ['@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/exporter-jaeger', 'jaeger-client']) assert.ok(!loaded.includes(other), `${other} loaded`)
})

test('jaeger loads only the Jaeger exporter and its client', async () => {
  const port = await freePort()
  const { code, loaded, output } = await runAgentOnce(`{ exporter: jaeger, jaegerAgent: "127.0.0.1:${port}" }`)
  assert.equal(code, 0, output)
  assert.ok(loaded.includes('@opentelemetry/exporter-jaeger') && loaded.includes('jaeger-client'))
  for (const other of ['@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/exporter-trace-otlp-proto']) assert.ok(!loaded.includes(other), `${other} loaded`)
})
