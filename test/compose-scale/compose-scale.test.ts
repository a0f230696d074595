/**
 * The compose scale-out (compose/docker-compose.scale.yml): nginx balances two demo app replicas,
 * each replica has its own agent in its network and PID namespaces, and Prometheus scrapes every
 * agent. Checked statically, as there is no container engine here: `docker-compose config`,
 * `nginx -t` and `promtool check config`.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { parse as parseYaml } from 'yaml'

const execFileAsync = promisify(execFile)
const root = resolve(import.meta.dirname, '../..')
const composeDir = resolve(root, 'compose')
const baseFile = join(composeDir, 'docker-compose.yml')
const scaleFile = join(composeDir, 'docker-compose.scale.yml')
const nginxConf = join(composeDir, 'scale/nginx.conf')
const basePrometheus = join(composeDir, 'prometheus/prometheus.yml')
const scalePrometheus = join(composeDir, 'scale/prometheus.yml')
/** The agent's port, inside each replica's network namespace. */
const AGENT_PORT = 9465

type Obj = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

async function tempDir (t: { after (fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'outrigger-scale-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** `docker-compose config` of the base file with the scale-out override, parsed. */
async function mergedCompose (): Promise<Obj> {
  const { stdout } = await execFileAsync('docker-compose', ['-f', baseFile, '-f', scaleFile, 'config'], { cwd: root, maxBuffer: 8 * 1024 * 1024 })
  return parseYaml(stdout) as Obj
}

/** `host:port` of every `server` line in the nginx upstream block `demo_app`. */
function upstreamServers (conf: string): string[] {
  const block = /upstream demo_app \{([^}]*)\}/.exec(conf)
  assert.ok(block !== null, 'nginx.conf has an upstream demo_app block')
  return [...block[1]!.matchAll(/^\s*server\s+([\w.-]+:\d+)/gm)].map((m) => m[1]!)
}

/**
 * Runs `nginx -t` on a copy of `conf` whose upstream host names are replaced by 127.0.0.1, since
 * nginx resolves them while checking and the compose service names resolve only inside compose.
 */
async function nginxTest (conf: string, dir: string): Promise<{ ok: boolean, output: string }> {
  const file = join(dir, 'nginx.conf')
  await writeFile(file, conf.replace(/^(\s*server\s+)[\w.-]+(:\d+)/gm, '$1127.0.0.1$2'))
  try {
    const { stdout, stderr } = await execFileAsync('nginx', ['-t', '-e', 'stderr', '-p', dir, '-c', file])
    return { ok: true, output: stdout + stderr }
  } catch (error) {
    const e = error as { stdout?: string, stderr?: string }
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` }
  }
}

test('nginx -t accepts the balancer config (upstream hosts replaced by 127.0.0.1), and refuses a broken one', async (t) => {
  const conf = await readFile(nginxConf, 'utf8')
  const good = await nginxTest(conf, await tempDir(t))
  assert.ok(good.ok, good.output)
  assert.match(good.output, /test is successful/)
  const bad = await nginxTest(conf.replace('least_conn;', 'least_conn_typo;'), await tempDir(t))
  assert.equal(bad.ok, false)
  assert.match(bad.output, /unknown directive "least_conn_typo"/)
})

test('docker-compose accepts the base file with the scale-out override', async () => {
  await execFileAsync('docker-compose', ['-f', baseFile, '-f', scaleFile, 'config', '-q'], { cwd: root })
})

test('every replica nginx balances has its own agent in its network and PID namespaces, and Prometheus scrapes each agent', async () => {
  const services = (await mergedCompose()).services as Obj
  const replicas = upstreamServers(await readFile(nginxConf, 'utf8'))
  assert.deepEqual(replicas, ['demo-app:8000', 'demo-app-2:8000'])

  const scrapeTargets = (parseYaml(await readFile(scalePrometheus, 'utf8')) as Obj).scrape_configs
    .find((job: Obj) => job.job_name === 'outrigger').static_configs.flatMap((c: Obj) => c.targets)
  assert.deepEqual(scrapeTargets, replicas.map((r) => `${r.split(':')[0]}:${AGENT_PORT}`))

  for (const replica of replicas) {
    const [name, port] = replica.split(':') as [string, string]
    const app = services[name]
    assert.ok(app !== undefined, `service ${name} exists`)
    assert.equal(app.environment.PORT, port)
    const agents = Object.entries(services).filter(([, s]) => (s as Obj).network_mode === `service:${name}`)
    assert.equal(agents.length, 1, `exactly one agent shares ${name}'s network namespace`)
    const [agentName, agent] = agents[0] as [string, Obj]
    assert.equal(agent.pid, `service:${name}`, `${agentName} shares ${name}'s PID namespace`)
    assert.equal(agent.environment.OUTRIGGER_LISTEN, `0.0.0.0:${AGENT_PORT}`)
    assert.equal(agent.depends_on[name].condition, 'service_healthy')
  }

  const nginx = services.nginx
  for (const replica of replicas) assert.equal(nginx.depends_on[replica.split(':')[0]!].condition, 'service_healthy')
  assert.ok(nginx.volumes.some((v: string | Obj) => String(typeof v === 'string' ? v : `${v.source}:${v.target}`).includes('scale/nginx.conf:/etc/nginx/nginx.conf')))
  assert.equal(services.load.environment.TARGET_URL, 'http://nginx:8080')
  assert.ok(services.prometheus.volumes.some((v: string | Obj) => String(typeof v === 'string' ? v : `${v.source}:${v.target}`).includes('scale/prometheus.yml:/etc/prometheus/prometheus.yml')))
})

test('the second replica and its agent are defined like the first', async () => {
  const services = (await mergedCompose()).services as Obj
  const without = (service: Obj, keys: string[]): Obj => Object.fromEntries(Object.entries(service).filter(([k]) => !keys.includes(k)))
  assert.deepEqual(without(services['demo-app-2'], ['ports']), without(services['demo-app'], ['ports']))
  assert.equal(services['demo-app-2'].ports, undefined, 'the second replica publishes nothing')
  assert.deepEqual(without(services['agent-2'], ['network_mode', 'pid', 'depends_on']), without(services.agent, ['network_mode', 'pid', 'depends_on']))
})

test('the scale-out Prometheus config is the base one with both agents, and promtool accepts it with the rules', async () => {
  const base = parseYaml(await readFile(basePrometheus, 'utf8')) as Obj
  const scale = parseYaml(await readFile(scalePrometheus, 'utf8')) as Obj
  // Rule files are relative to each config file; both must name the same files.
  const resolveRules = (config: Obj, file: string): string[] => config.rule_files.map((p: string) => resolve(dirname(file), p))
  assert.deepEqual(resolveRules(scale, scalePrometheus), resolveRules(base, basePrometheus))
  const withoutAgentTargets = (config: Obj): Obj => ({
    ...config,
    rule_files: undefined,
    scrape_configs: config.scrape_configs.map((job: Obj) => job.job_name === 'outrigger' ? { ...job, static_configs: undefined } : job)
  })
  assert.deepEqual(withoutAgentTargets(scale), withoutAgentTargets(base))

  const { stdout } = await execFileAsync('promtool', ['check', 'config', scalePrometheus], { cwd: root })
  assert.match(stdout, /SUCCESS: [1-9]\d* rule files found/)
})
