/**
 * deploy/kubernetes: every manifest validates against the Kubernetes schemas (and the Prometheus
 * Operator's), the base and the example overlay build with kustomize, and the rendered objects fit
 * together the way docs/kubernetes.md says they do.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { parser as promqlParser } from '@prometheus-io/lezer-promql'
import { loadConfigFile } from '../../agent/config/index.ts'
import { findUnknownFields, kustomizeBuild, readResources, validateResource, type Resource } from './kubernetes-schemas.ts'

const root = resolve(import.meta.dirname, '../..')
const deployDir = resolve(root, 'deploy/kubernetes')

/** YAML files under deploy/kubernetes that are not Kubernetes objects, and what checks them instead. */
const NOT_OBJECTS: Record<string, string> = {
  'base/agent-config.yaml': 'the agent config test below',
  'prometheus-adapter/values.yaml': 'the autoscaling test below',
  'overlays/example/kustomizeconfig/podmonitor-secret.yaml': 'kustomize, while building the overlay'
}

type Obj = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

async function yamlFiles (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile() && /\.ya?ml$/.test(e.name)).map((e) => join(e.parentPath, e.name)).sort()
}

/**
 * Base and overlay as kustomize renders them, built once from a copy of deploy/kubernetes with the
 * overlay's token file in place (as docs/kubernetes.md has the user create it).
 */
let base: Resource[] = []
let overlay: Resource[] = []
let renderDir: string | undefined
before(async () => {
  renderDir = await mkdtemp(join(tmpdir(), 'outrigger-k8s-'))
  await cp(deployDir, renderDir, { recursive: true })
  await writeFile(join(renderDir, 'overlays/example/secrets/token'), 'test-token-0123456789abcdef\n')
  base = await kustomizeBuild(join(renderDir, 'base'))
  overlay = await kustomizeBuild(join(renderDir, 'overlays/example'))
})
after(async () => {
  if (renderDir !== undefined) await rm(renderDir, { recursive: true, force: true })
})

function only (resources: readonly Resource[], kind: string, name?: string): Obj {
  const found = resources.filter((r) => r.object.kind === kind && (name === undefined || (r.object.metadata as Obj | undefined)?.name === name))
  assert.equal(found.length, 1, `exactly one ${kind}${name === undefined ? '' : ` ${name}`} in the output, found ${found.length}`)
  return found[0]!.object as Obj
}

/** PromQL syntax errors (lezer-promql's error nodes), as `offset: text` lines. */
function promqlErrors (expr: string): string[] {
  const errors: string[] = []
  promqlParser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(`${node.from}: ${JSON.stringify(expr.slice(Math.max(0, node.from - 10), node.to + 10))}`)
    }
  })
  return errors
}

test('every YAML file under deploy/kubernetes parses, and every Kubernetes object in it validates against its schema', async () => {
  const files = await yamlFiles(deployDir)
  assert.ok(files.length >= 10, `found only ${files.length} files`)
  const objects: Resource[] = []
  for (const file of files) {
    const resources = await readResources(file)
    const name = relative(deployDir, file)
    if (name in NOT_OBJECTS) {
      assert.ok(resources.every((r) => r.object.kind === undefined), `${name} is listed as not a Kubernetes object`)
      continue
    }
    assert.ok(resources.length > 0, `${name} holds no document`)
    for (const resource of resources) {
      assert.equal(typeof resource.object.apiVersion, 'string', `${resource.source} has no apiVersion`)
      assert.equal(typeof resource.object.kind, 'string', `${resource.source} has no kind`)
      if (resource.object.apiVersion === 'kustomize.config.k8s.io/v1beta1') continue // read by kustomize below
      objects.push(resource)
    }
  }
  assert.deepEqual(objects.flatMap(validateResource), [])
  assert.deepEqual(findUnknownFields(objects), [])
})

test('the schema checks catch a wrong type and a misspelt field', () => {
  const bad: Resource = {
    source: 'inline#0',
    object: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: { spec: { containers: [{ name: 'c', ports: [{ containerPort: 'http' }], securityContext: { readOnlyRootFileSystem: true } }] } }
      }
    }
  }
  assert.match(validateResource(bad).join('\n'), /containerPort must be integer/)
  assert.match(findUnknownFields([bad]).join('\n'), /readOnlyRootFileSystem/)
  assert.match(validateResource({ source: 'inline#1', object: { apiVersion: 'v1', kind: 'Pod' } }).join('\n'), /no schema for v1\/Pod/)
})

test('kustomize builds the base and the example overlay, and everything they render validates', async () => {
  for (const resources of [base, overlay]) {
    assert.deepEqual(resources.flatMap(validateResource), [])
    assert.deepEqual(findUnknownFields(resources), [])
  }
  const kinds = (resources: Resource[]): string[] => resources.map((r) => String(r.object.kind)).sort()
  assert.deepEqual(kinds(base), ['ConfigMap', 'Deployment', 'Deployment', 'PodDisruptionBudget', 'PodMonitor', 'PrometheusRule', 'Service', 'Service', 'ServiceAccount'])
  assert.deepEqual(kinds(overlay), [...kinds(base), 'HorizontalPodAutoscaler', 'Namespace', 'Secret'].sort())
  for (const resource of overlay) {
    if (resource.object.kind === 'Namespace') continue
    assert.equal((resource.object.metadata as Obj).namespace, 'outrigger-demo', `${resource.source} is in the overlay's namespace`)
  }
})

test('the demo app pod runs the agent as a native sidecar, locked down, with probes and resources', async () => {
  const deployment = only(overlay, 'Deployment', 'demo-app')
  const pod = deployment.spec.template.spec
  assert.equal(deployment.spec.replicas, undefined, 'the autoscaler owns the replica count in the overlay')
  assert.equal(pod.shareProcessNamespace, true)
  assert.equal(pod.automountServiceAccountToken, false)
  assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' })
  assert.equal(pod.securityContext.runAsNonRoot, true)

  assert.equal(pod.initContainers.length, 1)
  const agent = pod.initContainers[0]
  assert.equal(agent.name, 'outrigger')
  assert.equal(agent.restartPolicy, 'Always', 'a native sidecar')
  assert.equal(agent.image, 'registry.example.com/outrigger/agent:0.1.0')
  const app = pod.containers.find((c: Obj) => c.name === 'demo-app')
  assert.equal(app.image, 'registry.example.com/outrigger/demo-app:0.1.0')

  for (const container of [agent, app]) {
    assert.deepEqual(container.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } }, container.name)
    for (const kind of ['requests', 'limits']) {
      assert.ok(container.resources[kind].cpu !== undefined && container.resources[kind].memory !== undefined, `${container.name} has ${kind}`)
    }
  }
  assert.equal(agent.ports[0].name, 'outrigger')
  assert.deepEqual(agent.livenessProbe.httpGet, { path: '/healthz', port: 'outrigger' })
  assert.deepEqual(agent.readinessProbe.httpGet, { path: '/readyz', port: 'outrigger' })

  // The volumes point at what the overlay generated (hashed names), mounted where the config reads them.
  const configMap = only(overlay, 'ConfigMap')
  const secret = only(overlay, 'Secret')
  const volume = (name: string): Obj => pod.volumes.find((v: Obj) => v.name === name)
  assert.equal(volume('agent-config').configMap.name, configMap.metadata.name)
  assert.equal(volume('agent-token').secret.secretName, secret.metadata.name)
  assert.match(secret.metadata.name, /^outrigger-token-/)
  const mountPath = (name: string): string => agent.volumeMounts.find((m: Obj) => m.name === name).mountPath
  const env = (name: string): string => agent.env.find((e: Obj) => e.name === name).value
  assert.equal(env('OUTRIGGER_CONFIG'), `${mountPath('agent-config')}/outrigger.yaml`)
  assert.equal(`${mountPath('agent-token')}/token`, '/var/run/secrets/outrigger/token')

  // Every pod the overlay runs meets the restricted Pod Security Standard its namespace enforces.
  const namespace = only(overlay, 'Namespace')
  assert.equal(namespace.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted')
  for (const d of overlay.filter((r) => r.object.kind === 'Deployment')) {
    const spec = (d.object as Obj).spec.template.spec
    assert.equal(spec.securityContext.runAsNonRoot, true)
    assert.deepEqual(spec.securityContext.seccompProfile, { type: 'RuntimeDefault' })
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      assert.equal(c.securityContext.allowPrivilegeEscalation, false, c.name)
      assert.deepEqual(c.securityContext.capabilities.drop, ['ALL'], c.name)
    }
  }
})

test('docs/kubernetes.md states the requests and limits the manifests set', async () => {
  const docs = await readFile(resolve(root, 'docs/kubernetes.md'), 'utf8')
  const containers: Array<[string, Obj]> = []
  for (const d of base.filter((r) => r.object.kind === 'Deployment')) {
    const spec = (d.object as Obj).spec.template.spec
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) containers.push([c.name === 'outrigger' ? 'agent' : c.name.replace('-', ' '), c.resources])
  }
  assert.equal(containers.length, 3)
  for (const [row, resources] of containers) {
    const cells = (kind: string): string => `${resources[kind].cpu} CPU, ${resources[kind].memory}`
    assert.ok(docs.includes(`| ${row} | ${cells('requests')} | ${cells('limits')} |`), `docs/kubernetes.md has the row | ${row} | ${cells('requests')} | ${cells('limits')} |`)
  }
})

test('the agent config in the ConfigMap is valid and points at the app in its pod', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'outrigger-k8s-config-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  await writeFile(join(dir, 'outrigger.yaml'), only(overlay, 'ConfigMap').data['outrigger.yaml'])
  await writeFile(join(dir, 'token'), 'test-token\n')
  const deployment = only(overlay, 'Deployment', 'demo-app')
  const pod = deployment.spec.template.spec
  const agent = pod.initContainers[0]
  const app = pod.containers[0]
  const appPort = Number(agent.env.find((e: Obj) => e.name === 'APP_PORT').value)
  const config = await loadConfigFile(join(dir, 'outrigger.yaml'), { env: { OUTRIGGER_TOKEN_FILE: join(dir, 'token'), APP_PORT: String(appPort) } })

  assert.equal(appPort, app.ports.find((p: Obj) => p.name === 'http').containerPort)
  assert.equal(config.server.listen, `0.0.0.0:${agent.ports[0].containerPort}`)
  assert.ok(config.server.auth?.bearer !== undefined, 'bearer auth on /metrics')
  assert.deepEqual(config.server.auth.openPaths, ['/healthz', '/readyz'], 'the kubelet probes without the token')
  const target = config.targets[0]!
  assert.equal(target.name, 'demo-app')
  assert.equal(target.process?.port, appPort, 'the app process, found by its port')
  assert.equal(new URL(target.stats!.url).port, String(appPort))
})

test('the PodMonitor scrapes every agent with the token Secret and takes pod and namespace from discovery', async () => {
  const podMonitor = only(overlay, 'PodMonitor')
  const deployment = only(overlay, 'Deployment', 'demo-app')
  const podLabels = deployment.spec.template.metadata.labels
  for (const [key, value] of Object.entries(podMonitor.spec.selector.matchLabels)) assert.equal(podLabels[key], value, `selector ${key}`)
  const [endpoint, ...rest] = podMonitor.spec.podMetricsEndpoints
  assert.equal(rest.length, 0)
  assert.equal(endpoint.port, deployment.spec.template.spec.initContainers[0].ports[0].name)
  assert.equal(endpoint.path, '/metrics')
  const secret = only(overlay, 'Secret')
  assert.deepEqual(endpoint.authorization, { type: 'Bearer', credentials: { name: secret.metadata.name, key: 'token' } })
  assert.ok(secret.data.token !== undefined)

  const relabel = (target: string): Obj | undefined => endpoint.relabelings.find((r: Obj) => r.targetLabel === target)
  assert.equal(relabel('job')?.replacement, 'outrigger', 'the same job label as compose, which the rules use')
  assert.deepEqual(relabel('namespace')?.sourceLabels, ['__meta_kubernetes_namespace'])
  assert.deepEqual(relabel('pod')?.sourceLabels, ['__meta_kubernetes_pod_name'])
  assert.equal(endpoint.honorLabels, false)

  const rule = only(overlay, 'PrometheusRule')
  assert.ok(rule.spec.groups.length > 0)
})

test('the autoscaler scales the Deployment on the per-pod metric the Prometheus Adapter rule publishes', async () => {
  const hpa = only(overlay, 'HorizontalPodAutoscaler')
  const deployment = only(overlay, 'Deployment', 'demo-app')
  assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name })
  assert.ok(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas)
  const [metric] = hpa.spec.metrics
  assert.equal(metric.type, 'Pods')

  const values = parseYaml(await readFile(resolve(deployDir, 'prometheus-adapter/values.yaml'), 'utf8')) as Obj
  assert.equal(values.rules.default, false)
  const rules = values.rules.custom as Obj[]
  const rule = rules.find((r) => r.name.as === metric.pods.metric.name)
  assert.ok(rule !== undefined, `an adapter rule publishes ${metric.pods.metric.name}`)
  assert.match(rule.seriesQuery, /^app_http_requests_total\{/, 'a metric the agent exports')
  // The adapter maps the labels the PodMonitor sets to Kubernetes resources.
  assert.deepEqual(rule.resources.overrides, { namespace: { resource: 'namespace' }, pod: { resource: 'pod' } })
  assert.deepEqual(promqlErrors(rule.seriesQuery), [])
  const query = rule.metricsQuery
    .replaceAll('<<.Series>>', 'app_http_requests_total')
    .replaceAll('<<.LabelMatchers>>', 'namespace="outrigger-demo",pod=~"demo-app-.*"')
    .replaceAll('<<.GroupBy>>', 'pod')
  assert.doesNotMatch(query, /<<|>>/)
  assert.deepEqual(promqlErrors(query), [])
  assert.ok(promqlErrors('sum(rate(app_http_requests_total[2m]').length > 0, 'the PromQL check can fail')
})
