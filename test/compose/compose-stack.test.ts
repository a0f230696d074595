import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ROOT } from '../dashboards/dashboard-files.ts'
import { waitUntil } from '../support/wait.ts'

const COMPOSE_DIR = join(ROOT, 'compose')

/** Whether testcontainers finds a Docker or Podman runtime, and why not when it does not. */
async function containerRuntime (): Promise<{ available: true } | { available: false, reason: string }> {
  const { getContainerRuntimeClient } = await import('testcontainers')
  try {
    await getContainerRuntimeClient()
    return { available: true }
  } catch (error) {
    return { available: false, reason: (error as Error).message.split('\n')[0] ?? String(error) }
  }
}

async function getJson<T> (url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) })
  if (!response.ok) throw new Error(`${url} answered ${response.status}`)
  return await response.json() as T
}

// Every published port on a free host port, so the stack never collides with what runs here.
const HOST_PORTS = ['DEMO_APP_HOST_PORT', 'AGENT_HOST_PORT', 'PROMETHEUS_HOST_PORT', 'ALERTMANAGER_HOST_PORT', 'GRAFANA_HOST_PORT', 'JAEGER_UI_HOST_PORT', 'OTLP_GRPC_HOST_PORT', 'OTLP_HTTP_HOST_PORT']

test('the compose stack comes up: the agent reports the demo app, Prometheus scrapes it with the rules loaded, Grafana has the dashboards', { timeout: 20 * 60_000 }, async (t) => {
  const runtime = await containerRuntime()
  if (!runtime.available) {
    // The only skip in the suite: without Docker or Podman the compose file is checked statically
    // (compose-files.test.ts) and the same parts run as processes (test/dashboards/dashboards-data.test.ts).
    t.skip(`no container runtime: ${runtime.reason}`)
    return
  }
  const { DockerComposeEnvironment, Wait } = await import('testcontainers')
  const environment = await new DockerComposeEnvironment(COMPOSE_DIR, 'docker-compose.yml')
    .withBuild()
    .withEnvironment(Object.fromEntries(HOST_PORTS.map((name) => [name, '0'])))
    .withWaitStrategy('demo-app-1', Wait.forHealthCheck())
    .withWaitStrategy('agent-1', Wait.forHealthCheck())
    .withWaitStrategy('prometheus-1', Wait.forHealthCheck())
    .withWaitStrategy('grafana-1', Wait.forHealthCheck())
    .withStartupTimeout(10 * 60_000)
    .up()
  t.after(async () => { await environment.down({ removeVolumes: true }) })

  const app = environment.getContainer('demo-app-1')
  const agentUrl = `http://${app.getHost()}:${app.getMappedPort(9465)}`
  await waitUntil(async () => {
    const text = await (await fetch(`${agentUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text()
    return /^probe_success\{[^}]*probe="health"[^}]*\} 1$/m.test(text) &&
      /^app_http_requests_total\{/m.test(text) &&
      /^app_process_open_fds\{/m.test(text) &&
      /^outrigger_source_up\{[^}]*source="process"[^}]*\} 1$/m.test(text)
  }, { timeoutMs: 120_000, intervalMs: 1000, what: 'the agent to report the demo app, its probes and its process' })

  const prometheus = environment.getContainer('prometheus-1')
  const prometheusUrl = `http://${prometheus.getHost()}:${prometheus.getMappedPort(9090)}`
  await waitUntil(async () => {
    const body = await getJson<{ data: { activeTargets: Array<{ labels: { job: string }, health: string }> } }>(`${prometheusUrl}/api/v1/targets`)
    return body.data.activeTargets.some((target) => target.labels.job === 'outrigger' && target.health === 'up')
  }, { timeoutMs: 120_000, intervalMs: 1000, what: 'Prometheus to scrape the agent' })
  const rules = await getJson<{ data: { groups: Array<{ name: string }> } }>(`${prometheusUrl}/api/v1/rules`)
  const groups = rules.data.groups.map((group) => group.name)
  for (const name of ['slo-demo-app-requests-availability', 'slo-demo-app-requests-latency', 'slo-demo-app-health-probe-availability', 'app-causes', 'process-causes', 'outrigger-causes']) {
    assert.ok(groups.includes(name), `rule group ${name} not loaded: ${groups.join(', ')}`)
  }

  const grafana = environment.getContainer('grafana-1')
  const found = await getJson<Array<{ uid: string }>>(`http://${grafana.getHost()}:${grafana.getMappedPort(3000)}/api/search?tag=outrigger`)
  assert.deepEqual(found.map((dashboard) => dashboard.uid).sort(), ['outrigger-agent', 'outrigger-resources', 'outrigger-service-overview', 'outrigger-slo'])
})
