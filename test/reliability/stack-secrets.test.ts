/**
 * Secrets never leak: the whole stack (Postgres, upstream, demo app, agent, all as processes, both
 * exporting traces) runs with a known database password, agent bearer token, stats header token
 * and URL password, plus a wrong password that fails. None of them may appear in the agent's
 * metrics, `/api/targets`, status page, 401 answers, either process's logs, or any exported span.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { stringify } from 'yaml'
import { startStack, type Stack } from '../support/stack.ts'
import { startTraceReceiver, type TraceReceiver } from '../support/trace-receiver.ts'
import { waitUntil } from '../support/wait.ts'

const AGENT_TOKEN = 'agent-token-5f0c7e1d9a'
const STATS_TOKEN = 'stats-header-token-3b8e'
const URL_PASSWORD = 'url-password-91ad0c'
const WRONG_PASSWORD = 'wrong-password-77e2f4'

let stack: Stack
let traces: TraceReceiver

before(async () => {
  traces = await startTraceReceiver()
  const otel = { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: traces.otlpEndpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }
  stack = await startStack({
    demoEnv: { ...otel, LOG_LEVEL: 'debug' },
    agentEnv: { ...otel, AGENT_TOKEN, OUTRIGGER_LOG_LEVEL: 'debug' },
    agentConfig: (addresses) => {
      const wrong = new URL(addresses.postgresUrl)
      wrong.password = WRONG_PASSWORD
      const app = new URL(addresses.appUrl)
      app.username = 'probe'
      app.password = URL_PASSWORD
      return stringify({
        server: { listen: addresses.agentListen, auth: { bearer: { token: '${AGENT_TOKEN}' } } },
        defaults: { interval: '1s', timeout: '800ms' },
        targets: [{
          name: 'demo-app',
          stats: { url: `${addresses.appUrl}/api/performance/metrics`, headers: { Authorization: `Bearer ${STATS_TOKEN}` } },
          probes: [
            { name: 'health', http: { url: `${app.href}health`, headers: { 'X-Api-Key': STATS_TOKEN } } },
            { name: 'db', postgres: { url: addresses.postgresUrl } },
            { name: 'db-wrong', postgres: { url: wrong.href } }
          ],
          process: { port: addresses.appPort }
        }]
      })
    }
  })
})

after(async () => {
  await stack?.close()
  await traces?.close()
})

test('no secret appears in metrics, /api/targets, the status page, 401 answers, logs or exported spans', async () => {
  const secrets = { 'database password': stack.postgres.password, 'agent token': AGENT_TOKEN, 'stats header token': STATS_TOKEN, 'URL password': URL_PASSWORD, 'wrong password': WRONG_PASSWORD }
  assert.ok(stack.postgres.password.length >= 8, 'the database password is long enough to grep for')
  const auth = { authorization: `Bearer ${AGENT_TOKEN}` }
  const get = async (path: string, headers: Record<string, string> = auth): Promise<string> => {
    const response = await fetch(`${stack.agentUrl}${path}`, { headers })
    return `${response.status}\n${[...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n')}\n${await response.text()}`
  }

  // Wait for every source to have run and failed or succeeded, and for spans of both services.
  await waitUntil(async () => {
    const body = await get('/metrics')
    return /^probe_success\{target="demo-app",probe="db-wrong"\} 0$/m.test(body) && /^probe_success\{target="demo-app",probe="db"\} 1$/m.test(body) &&
      /^probe_success\{target="demo-app",probe="health"\} 1$/m.test(body) && /^outrigger_source_up\{target="demo-app",source="stats"\} 1$/m.test(body)
  }, { what: 'every source to run', timeoutMs: 60_000 })
  for (let i = 0; i < 5; i++) await (await fetch(`${stack.appUrl}/api/items/${i + 1}`)).text()
  await traces.waitFor((spans) => spans.some((span) => span.serviceName === 'outrigger' && span.name.includes('db-wrong')) &&
    spans.some((span) => span.serviceName !== 'outrigger' && span.kind === 'server'), { timeoutMs: 60_000, what: 'spans from the agent (including the failing probe) and the demo app' })

  const targets = await get('/api/targets')
  assert.match(targets, /"auth"/, 'the failing probe is reported in /api/targets')
  assert.match(targets, /<redacted>/, 'the configuration is shown, secrets redacted')
  assert.match(targets, /probe(:<redacted>)?@127\.0\.0\.1/, 'the probe URL is shown without its password')
  const surfaces = {
    metrics: await get('/metrics'),
    openMetrics: await get('/metrics', { ...auth, accept: 'application/openmetrics-text; version=1.0.0' }),
    targets,
    statusPage: await get('/'),
    unauthorized: await get('/metrics', { authorization: 'Bearer nope' }),
    agentLog: stack.agent.output.join(''),
    appLog: stack.app.output.join(''),
    spans: JSON.stringify(traces.spans, (_key, value: unknown) => typeof value === 'bigint' ? value.toString() : value)
  }
  assert.ok(surfaces.agentLog.includes('db-wrong'), 'the agent logged the failing probe')
  assert.ok(surfaces.spans.length > 1000, 'spans were exported')
  for (const [surface, text] of Object.entries(surfaces)) {
    for (const [what, secret] of Object.entries(secrets)) {
      assert.ok(!text.includes(secret), `the ${what} appears in ${surface}`)
      assert.ok(!text.includes(encodeURIComponent(secret)), `the ${what} appears URL-encoded in ${surface}`)
    }
  }
})
