import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { ROOT } from '../dashboards/dashboard-files.ts'
import { runTool } from '../slo/promtool.ts'

const COMPOSE_DIR = join(ROOT, 'compose')
const COMPOSE_FILE = join(COMPOSE_DIR, 'docker-compose.yml')

interface Service {
  image?: string
  build?: { context: string, dockerfile: string }
  healthcheck?: { test: string[] | string }
  network_mode?: string
  pid?: string
  ports?: unknown[]
  volumes?: Array<string | { source: string, target: string }>
  command?: string[] | string
  depends_on?: Record<string, { condition: string }>
}

function readYaml<T> (path: string): T {
  return parse(readFileSync(join(ROOT, path), 'utf8')) as T
}

/** The compose file as docker-compose resolves it (variables expanded, paths absolute). */
async function resolvedCompose (): Promise<{ services: Record<string, Service> }> {
  const run = await runTool('docker-compose', ['-f', COMPOSE_FILE, 'config'], { cwd: ROOT })
  assert.equal(run.code, 0, run.output)
  return parse(run.output) as { services: Record<string, Service> }
}

function mounts (service: Service | undefined): Array<{ source: string, target: string }> {
  return (service?.volumes ?? []).map((volume) => {
    if (typeof volume !== 'string') return volume
    const [source = '', target = ''] = volume.split(':')
    return { source, target }
  })
}

test('docker-compose config accepts the compose file', async () => {
  const run = await runTool('docker-compose', ['-f', COMPOSE_FILE, 'config', '-q'], { cwd: ROOT })
  assert.equal(run.code, 0, run.output)
  assert.equal(run.output.trim(), '')
})

test('every service is there, images are pinned, and every service but Jaeger has a healthcheck', async () => {
  const { services } = await resolvedCompose()
  assert.deepEqual(Object.keys(services).sort(), ['agent', 'alertmanager', 'demo-app', 'grafana', 'jaeger', 'load', 'postgres', 'prometheus', 'upstream'])
  for (const [name, service] of Object.entries(services)) {
    if (service.build !== undefined) {
      assert.match(service.image ?? '', /^outrigger-[a-z-]+:local$/, `${name}: a built image is tagged outrigger-*:local`)
    } else {
      assert.match(service.image ?? '', /^[a-z0-9./-]+:v?\d+(\.\d+)*(-[a-z]+)?$/, `${name}: image ${String(service.image)} is not pinned to a version`)
    }
    // Jaeger's image brings its own HEALTHCHECK.
    if (name !== 'jaeger') assert.ok(service.healthcheck !== undefined, `${name}: no healthcheck`)
  }
  assert.equal(services.postgres?.image, 'postgres:16-alpine')
  assert.match(services.jaeger?.image ?? '', /^jaegertracing\/jaeger:2\.\d+\.\d+$/)
  assert.match(services.prometheus?.image ?? '', /^prom\/prometheus:v\d+\.\d+\.\d+$/)
  assert.match(services.alertmanager?.image ?? '', /^prom\/alertmanager:v\d+\.\d+\.\d+$/)
  assert.match(services.grafana?.image ?? '', /^grafana\/grafana:\d+\.\d+\.\d+$/)
})

test('the agent is a sidecar in the demo app\'s network and PID namespaces, built from the repository', async () => {
  const { services } = await resolvedCompose()
  const agent = services.agent
  assert.equal(agent?.network_mode, 'service:demo-app')
  assert.equal(agent?.pid, 'service:demo-app')
  assert.equal(agent?.ports, undefined, 'a service in another service\'s network namespace publishes no ports')
  assert.equal(agent?.build?.dockerfile, 'compose/agent/Dockerfile')
  assert.equal(agent?.depends_on?.['demo-app']?.condition, 'service_healthy')
  assert.deepEqual(mounts(agent).map((mount) => mount.target), ['/etc/outrigger/outrigger.yaml'])
  assert.ok(JSON.stringify(services['demo-app']?.ports).includes('9465'), 'the agent\'s port is published on the demo app')
  for (const name of ['demo-app', 'upstream', 'load']) assert.equal(services[name]?.build?.dockerfile, 'demo-app/Dockerfile', name)

  const dockerfile = readFileSync(join(COMPOSE_DIR, 'agent/Dockerfile'), 'utf8')
  assert.match(dockerfile, /^USER node$/m, 'the agent runs as the unprivileged node user, as the demo app does')
  const demoDockerfile = readFileSync(join(ROOT, 'demo-app/Dockerfile'), 'utf8')
  assert.match(demoDockerfile, /^USER node$/m)
  for (const from of [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((match) => match[1] ?? '')) assert.match(from, /:\d+\.\d+\.\d+-/, `FROM ${from} is not pinned`)
})

test('Prometheus and Grafana mount the repository\'s rules and dashboards; exemplars are stored', async () => {
  const { services } = await resolvedCompose()
  const prometheus = mounts(services.prometheus).find((mount) => mount.target === '/etc/prometheus')
  assert.equal(prometheus?.source, join(COMPOSE_DIR, 'prometheus'))
  assert.ok(JSON.stringify(services.prometheus?.command).includes('--enable-feature=exemplar-storage'))
  const grafana = mounts(services.grafana)
  assert.equal(grafana.find((mount) => mount.target === '/var/lib/grafana/dashboards')?.source, join(ROOT, 'dashboards'))
  assert.equal(grafana.find((mount) => mount.target === '/etc/grafana/provisioning')?.source, join(COMPOSE_DIR, 'grafana/provisioning'))
  const providers = readYaml<{ providers: Array<{ options: { path: string } }> }>('compose/grafana/provisioning/dashboards/dashboards.yml').providers
  assert.deepEqual(providers.map((provider) => provider.options.path), ['/var/lib/grafana/dashboards'])
})

test('Grafana\'s Prometheus data source links exemplar trace ids to the provisioned Jaeger data source', () => {
  const { datasources } = readYaml<{ datasources: Array<{ uid: string, type: string, url: string, jsonData?: { exemplarTraceIdDestinations?: Array<{ name: string, datasourceUid: string }> } }> }>('compose/grafana/provisioning/datasources/datasources.yml')
  const prometheus = datasources.find((source) => source.type === 'prometheus')
  const jaeger = datasources.find((source) => source.type === 'jaeger')
  assert.equal(prometheus?.uid, 'prometheus')
  assert.equal(prometheus?.url, 'http://prometheus:9090')
  assert.equal(jaeger?.uid, 'jaeger')
  assert.equal(jaeger?.url, 'http://jaeger:16686')
  assert.deepEqual(prometheus?.jsonData?.exemplarTraceIdDestinations, [{ name: 'trace_id', datasourceUid: 'jaeger' }])
})

test('promtool check config accepts prometheus.yml and finds the rule files', async () => {
  const run = await runTool('promtool', ['check', 'config', join(COMPOSE_DIR, 'prometheus/prometheus.yml')])
  assert.equal(run.code, 0, run.output)
  assert.match(run.output, /SUCCESS: 2 rule files found/)
  assert.match(run.output, /demo-app-slo\.rules\.yml[\s\S]*SUCCESS/)
  const config = readYaml<{ scrape_configs: Array<{ job_name: string, static_configs: Array<{ targets: string[] }> }> }>('compose/prometheus/prometheus.yml')
  const outrigger = config.scrape_configs.find((job) => job.job_name === 'outrigger')
  assert.deepEqual(outrigger?.static_configs[0]?.targets, ['demo-app:9465'], 'the agent answers on the demo app\'s address')
})

test('amtool check-config accepts alertmanager.yml, which routes page, ticket and warning apart', async () => {
  const run = await runTool('amtool', ['check-config', join(COMPOSE_DIR, 'alertmanager/alertmanager.yml')])
  assert.equal(run.code, 0, run.output)
  assert.match(run.output, /SUCCESS/)
  const { route } = readYaml<{ route: { routes: Array<{ receiver: string, matchers: string[] }> } }>('compose/alertmanager/alertmanager.yml')
  for (const severity of ['page', 'ticket', 'warning']) {
    assert.ok(route.routes.some((child) => child.receiver === severity && child.matchers.includes(`severity="${severity}"`)), `no route for severity ${severity}`)
  }
})

test('the compose agent config passes `outrigger check`', async () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OUTRIGGER_') && !['DATABASE_URL', 'UPSTREAM_URL', 'DEMO_APP_PORT', 'JAEGER_OTLP_URL'].includes(name)))
  const child = spawn(process.execPath, [join(ROOT, 'agent/bin/outrigger.ts'), 'check', '--config', join(COMPOSE_DIR, 'agent/outrigger.yaml')], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  const [code] = await once(child, 'close') as [number | null]
  assert.equal(code, 0, output)
  assert.match(output, /ok \(1 target, 6 sources\)/)
})
