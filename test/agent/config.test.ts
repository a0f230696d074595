import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  ConfigError,
  formatConfigProblem,
  loadConfigFile,
  parseConfigText,
  redactConfig,
  REDACTED
} from '../../agent/config/index.ts'
import type { AgentConfig, ConfigProblem } from '../../agent/config/index.ts'

const EXAMPLE = fileURLToPath(new URL('../../examples/outrigger.yaml', import.meta.url))

/** A minimal valid target, for tests that are about something else. */
const TARGET = `targets:
  - name: app
    probes:
      - name: up
        tcp: { address: "127.0.0.1:8000" }
`

async function parse (text: string, env: Record<string, string> = {}): Promise<AgentConfig> {
  return await parseConfigText(text, { file: 'test.yaml', env })
}

/** The problems loading `text` reports; fails the test when it loads. */
async function problemsOf (text: string, env: Record<string, string> = {}): Promise<ConfigProblem[]> {
  try {
    await parse(text, env)
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`)
    return [...error.problems]
  }
  assert.fail('the config loaded, but problems were expected')
}

/** The one problem at `path`; fails unless exactly one is there. */
function problemAt (problems: ConfigProblem[], path: string): ConfigProblem {
  const found = problems.filter((problem) => problem.path === path)
  assert.equal(found.length, 1, `expected one problem at ${path}, got: ${problems.map(formatConfigProblem).join(' | ')}`)
  return found[0] as ConfigProblem
}

function isDeepFrozen (value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen)
}

async function tempDir (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'outrigger-config-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

test('the committed example loads, deep-frozen, with defaults applied and durations in seconds', async () => {
  const config = await loadConfigFile(EXAMPLE, { env: {} })
  assert.ok(isDeepFrozen(config))
  assert.throws(() => { (config.targets as unknown as unknown[]).push({}) }, TypeError)
  assert.equal(config.server.listen, '127.0.0.1:9465')
  assert.deepEqual(config.defaults, { interval: 15, timeout: 5 })
  assert.deepEqual(config.limits, { bodyBytes: 1_048_576, seriesPerTarget: 10_000 })
  const [demo, cache] = config.targets
  assert.equal(demo?.name, 'demo-app')
  assert.equal(demo?.stats?.url, 'http://127.0.0.1:8000/api/performance/metrics')
  assert.equal(demo?.stats?.interval, 5)
  assert.equal(demo?.stats?.timeout, 2)
  assert.deepEqual(demo?.probes.map((probe) => [probe.name, probe.kind, probe.interval, probe.timeout]), [
    ['health', 'http', 5, 2],
    ['port', 'tcp', 15, 5],
    ['db', 'postgres', 30, 5]
  ])
  assert.equal(demo?.process?.port, 8000)
  assert.equal(cache?.stats?.format, 'mapping')
  assert.equal(cache?.stats?.interval, 15)
})

test('durations accept ms, s, m, h and plain seconds', async () => {
  const config = await parse(`defaults: { interval: 2m, timeout: 1.5s }
targets:
  - name: app
    probes:
      - { name: a, tcp: { address: "h:1" }, interval: 1h, timeout: 500ms }
      - { name: b, tcp: { address: "h:1" }, interval: 10, timeout: 0.25 }
`)
  assert.deepEqual(config.defaults, { interval: 120, timeout: 1.5 })
  assert.deepEqual(config.targets[0]?.probes.map((probe) => [probe.interval, probe.timeout]), [[3600, 0.5], [10, 0.25]])
})

test('each kind of problem is reported with its path, file, line and column', async (t) => {
  const cases: Array<{ name: string, text: string, env?: Record<string, string>, path: string, line: number, message: RegExp, code?: string }> = [
    {
      name: 'wrong type',
      text: `limits:\n  bodyBytes: lots\n${TARGET}`,
      path: 'limits.bodyBytes',
      line: 2,
      message: /expected a number, got the text `lots`/
    },
    {
      name: 'fraction where a whole number is needed',
      text: `limits:\n  seriesPerTarget: 1.5\n${TARGET}`,
      path: 'limits.seriesPerTarget',
      line: 2,
      message: /expected a whole number, got number 1\.5/
    },
    {
      name: 'unknown key with a suggestion',
      text: `defaults:\n  intervall: 10s\n${TARGET}`,
      path: 'defaults.intervall',
      line: 2,
      message: /unknown key `intervall`; did you mean `interval`\?/
    },
    {
      name: 'a key one level too deep points to where it belongs',
      text: 'targets:\n  - name: app\n    probes:\n      - name: up\n        tcp: { address: "127.0.0.1:8000", timout: 2s }\n',
      path: 'targets[0].probes[0].tcp.timout',
      line: 5,
      message: /unknown key `timout` here; did you mean `timeout`, which belongs in `targets\[0\]\.probes\[0\]`\?/
    },
    {
      name: 'with no close key anywhere near, the accepted keys are listed',
      text: 'targets:\n  - name: app\n    probes:\n      - name: up\n        tcp: { address: "127.0.0.1:8000", zzzzzz: 1 }\n',
      path: 'targets[0].probes[0].tcp.zzzzzz',
      line: 5,
      message: /unknown key `zzzzzz`; expected one of `address`/
    },
    {
      name: 'duplicate target name',
      text: `${TARGET}  - name: app\n    process: { pid: 1 }\n`,
      path: 'targets[1].name',
      line: 6,
      message: /duplicate target name `app`/
    },
    {
      name: 'duplicate probe name',
      text: `${TARGET}      - name: up\n        tcp: { address: "h:2" }\n`,
      path: 'targets[0].probes[1].name',
      line: 6,
      message: /duplicate probe name `up`/
    },
    {
      name: 'timeout not below interval',
      text: 'targets:\n  - name: app\n    stats:\n      url: http://127.0.0.1:8000/stats\n      interval: 5s\n      timeout: 5s\n',
      path: 'targets[0].stats.timeout',
      line: 6,
      message: /^timeout 5s must be below interval 5s for targets\[0\]\.stats$/
    },
    {
      name: 'bad URL',
      text: 'targets:\n  - name: app\n    probes:\n      - name: h\n        http: { url: "ftp://example.com/" }\n',
      path: 'targets[0].probes[0].http.url',
      line: 5,
      message: /`ftp:\/\/example\.com\/` is not an http:\/\/ or https:\/\/ URL/
    },
    {
      name: 'bad regular expression',
      text: 'targets:\n  - name: app\n    probes:\n      - name: h\n        http:\n          url: http://127.0.0.1/\n          bodyRegex: "ok("\n',
      path: 'targets[0].probes[0].http.bodyRegex',
      line: 7,
      message: /`ok\(` is not a valid regular expression/
    },
    {
      name: 'bad duration',
      text: `defaults:\n  interval: 10 seconds\n${TARGET}`,
      path: 'defaults.interval',
      line: 2,
      message: /500ms, 15s, 2m, 1h or a number of seconds, got the text `10 seconds`/
    },
    {
      name: 'zero duration',
      text: `defaults:\n  timeout: 0s\n${TARGET}`,
      path: 'defaults.timeout',
      line: 2,
      message: /above zero/
    },
    {
      name: 'unset variable without default',
      text: 'targets:\n  - name: app\n    stats:\n      url: "http://${APP_HOST}/stats"\n',
      path: 'targets[0].stats.url',
      line: 4,
      message: /environment variable `APP_HOST` is not set/,
      code: 'OUTRIGGER_ERR_CONFIG_ENV'
    },
    {
      name: 'empty targets',
      text: 'targets: []\n',
      path: 'targets',
      line: 1,
      message: /at least one target is required/
    },
    {
      name: 'missing targets',
      text: 'defaults: { interval: 10s }\n',
      path: 'targets',
      line: 1,
      message: /is required/
    },
    {
      name: 'probe with two kinds',
      text: 'targets:\n  - name: app\n    probes:\n      - name: p\n        tcp: { address: "h:1" }\n        http: { url: "http://h/" }\n',
      path: 'targets[0].probes[0].tcp',
      line: 5,
      message: /exactly one of `http`, `tcp`, `postgres`; found `http` and `tcp`/
    },
    {
      name: 'probe with no kind',
      text: 'targets:\n  - name: app\n    probes:\n      - name: p\n',
      path: 'targets[0].probes[0]',
      line: 4,
      message: /exactly one of `http`, `tcp`, `postgres`; none is set/
    },
    {
      name: 'process with two selectors',
      text: 'targets:\n  - name: app\n    process:\n      port: 8000\n      pid: 12\n',
      path: 'targets[0].process.pid',
      line: 5,
      message: /exactly one of `port`, `pid`, `pidfile`, `cmdline`/
    },
    {
      name: 'bad target name',
      text: 'targets:\n  - name: 9lives\n    process: { pid: 1 }\n',
      path: 'targets[0].name',
      line: 2,
      message: /target name `9lives` must start with a letter/
    },
    {
      name: 'enum value with a suggestion',
      text: `tracing:\n  exporter: jeager\n${TARGET}`,
      path: 'tracing.exporter',
      line: 2,
      message: /expected one of `otlp`, `jaeger`, `none`.*did you mean `jaeger`\?/
    },
    {
      name: 'mapping rule checked by the mapping engine',
      text: 'targets:\n  - name: app\n    stats:\n      url: http://h/\n      format: mapping\n      mappings:\n        - name: depth\n          type: gauge\n          path: $.depth\n          labels: { target: x }\n',
      path: 'targets[0].stats.mappings[0].labels.target',
      line: 10,
      message: /reserved/
    },
    {
      name: 'mapping format without rules',
      text: 'targets:\n  - name: app\n    stats:\n      url: http://h/\n      format: mapping\n',
      path: 'targets[0].stats.format',
      line: 5,
      message: /needs at least one entry in `mappings`/
    },
    {
      name: 'bad listen address',
      text: `server:\n  listen: localhost\n${TARGET}`,
      path: 'server.listen',
      line: 2,
      message: /`localhost` is not HOST:PORT/
    }
  ]
  for (const example of cases) {
    await t.test(example.name, async () => {
      const problems = await problemsOf(example.text, example.env)
      const problem = problemAt(problems, example.path)
      assert.match(problem.message, example.message)
      assert.equal(problem.file, 'test.yaml')
      assert.equal(problem.line, example.line, formatConfigProblem(problem))
      assert.equal(typeof problem.col, 'number')
      assert.equal(problem.code, example.code ?? 'OUTRIGGER_ERR_CONFIG_INVALID')
      assert.equal(problems.length, 1, `only the one problem expected: ${problems.map(formatConfigProblem).join(' | ')}`)
    })
  }
})

test('every problem in a file is reported together, in file order, in one OUTRIGGER_ERR_CONFIG_INVALID', async () => {
  const text = `server:
  listen: nowhere
defaults:
  timeout: 20s
targets:
  - name: app
    probes:
      - name: web
        http: { url: "not a url" }
        timout: 1s
      - name: web
        tcp: { address: "h:1" }
`
  const error = await parse(text, {}).then(() => undefined, (caught: unknown) => caught)
  assert.ok(error instanceof ConfigError)
  assert.equal(error.code, 'OUTRIGGER_ERR_CONFIG_INVALID')
  assert.deepEqual(error.problems.map((problem) => [problem.line, problem.path]), [
    [2, 'server.listen'],
    [4, 'defaults.timeout'],
    [9, 'targets[0].probes[0].http.url'],
    [10, 'targets[0].probes[0].timout'],
    [11, 'targets[0].probes[1].name']
  ])
  assert.match(error.message, /5 problems/)
  // The message lists every problem, so a log line of the error shows them all.
  for (const problem of error.problems) assert.ok(error.message.includes(formatConfigProblem(problem)))
})

test('${VAR} and ${VAR:-default} expand from the given environment; $${X} stays literal', async () => {
  const text = `server:
  listen: \${HOST:-127.0.0.1}:\${AGENT_PORT}
targets:
  - name: app
    stats:
      url: http://\${APP_HOST:-localhost}:\${APP_PORT:-8000}/stats
      headers:
        Authorization: "Bearer \${APP_TOKEN}"
        X-Literal: "$\${NOT_EXPANDED}"
        X-Empty-Default: "\${EMPTY:-fallback}"
    process:
      port: \${APP_PORT:-8000}
`
  const config = await parse(text, { AGENT_PORT: '9999', APP_PORT: '8123', APP_TOKEN: 's3cret', EMPTY: '' })
  assert.equal(config.server.listen, '127.0.0.1:9999')
  assert.equal(config.targets[0]?.stats?.url, 'http://localhost:8123/stats')
  assert.deepEqual(config.targets[0]?.stats?.headers, {
    Authorization: 'Bearer s3cret',
    'X-Literal': '${NOT_EXPANDED}',
    'X-Empty-Default': 'fallback'
  })
  // An unquoted value that expands to a number is a number, as if written there.
  assert.equal(config.targets[0]?.process?.port, 8123)
})

test('a quoted variable becomes a number where one is needed, but text stays text', async () => {
  const config = await parse(`targets:
  - name: app
    process: { port: "\${APP_PORT}" }
    probes:
      - name: db
        postgres: { host: db, user: app, password: "\${PGPASSWORD}" }
`, { APP_PORT: '8000', PGPASSWORD: '12345' })
  assert.equal(config.targets[0]?.process?.port, 8000)
  const probe = config.targets[0]?.probes[0]
  assert.equal(probe?.kind === 'postgres' ? probe.postgres.password : undefined, '12345')
})

test('variables are expanded in values only, never in keys, and keep line numbers', async () => {
  const problems = await problemsOf(`targets:
  - name: app
    process: { pid: 1 }
    \${EXTRA}: 1
`, { EXTRA: 'stats' })
  const problem = problemAt(problems, 'targets[0]["${EXTRA}"]')
  assert.equal(problem.line, 4)
  assert.match(problem.message, /unknown key/)
})

test('a malformed variable reference is reported at its value', async () => {
  const problems = await problemsOf('targets:\n  - name: app\n    stats: { url: "http://${1HOST}/" }\n')
  assert.match(problemAt(problems, 'targets[0].stats.url').message, /not a variable reference/)
})

test('an unset variable is reported once, not again as the invalid value it leaves', async () => {
  const problems = await problemsOf('targets:\n  - name: app\n    process: { port: "${APP_PORT}" }\n')
  assert.equal(problems.length, 1)
  assert.equal(problems[0]?.code, 'OUTRIGGER_ERR_CONFIG_ENV')
  assert.match(problems[0]?.message ?? '', /`APP_PORT`/)
})

test('unknown keys far from any valid key list the valid ones', async () => {
  const problems = await problemsOf(`limits:\n  widgets: 3\n${TARGET}`)
  assert.match(problemAt(problems, 'limits.widgets').message, /expected one of `bodyBytes`, `seriesPerTarget`/)
})

test('a source setting only a short interval gets a timeout below it; one setting a long timeout is refused', async () => {
  const config = await parse('targets:\n  - name: app\n    process: { pid: 1, interval: 2s }\n')
  assert.deepEqual([config.targets[0]?.process?.interval, config.targets[0]?.process?.timeout], [2, 1])
  const problems = await problemsOf('targets:\n  - name: app\n    process: { pid: 1, timeout: 20s }\n')
  assert.equal(problemAt(problems, 'targets[0].process.timeout').message, 'timeout 20s must be below interval 15s for targets[0].process')
  const defaults = await problemsOf(`defaults: { interval: 5s, timeout: 5s }\n${TARGET}`)
  assert.equal(problemAt(defaults, 'defaults.timeout').message, 'timeout 5s must be below interval 5s for defaults')
})

test('postgres probes get host, port, user, password and database from the URL or the parts', async () => {
  const config = await parse(`targets:
  - name: app
    probes:
      - name: a
        postgres: { url: "postgres://app:p%40ss@db.internal:6543/orders" }
      - name: b
        postgres: { host: db, user: app }
`)
  const [a, b] = config.targets[0]?.probes ?? []
  assert.deepEqual(a?.kind === 'postgres' ? [a.postgres.host, a.postgres.port, a.postgres.user, a.postgres.password, a.postgres.database, a.postgres.query] : [],
    ['db.internal', 6543, 'app', 'p@ss', 'orders', 'SELECT 1'])
  assert.deepEqual(b?.kind === 'postgres' ? [b.postgres.host, b.postgres.port, b.postgres.user, b.postgres.password, b.postgres.database] : [],
    ['db', 5432, 'app', undefined, 'app'])
})

test('secret and PEM files are read relative to the config file; unreadable ones are problems at their key', async (t) => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'token'), 'tok-from-file\n')
  await writeFile(join(dir, 'pgpass'), 'pg-from-file\n')
  await writeFile(join(dir, 'cert.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')
  await writeFile(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n')
  const file = join(dir, 'agent.yaml')
  await writeFile(file, `server:
  auth:
    bearer: { tokenFile: token }
  tls: { certFile: cert.pem, keyFile: key.pem }
targets:
  - name: app
    probes:
      - name: db
        postgres: { host: db, user: app, passwordFile: pgpass }
`)
  const config = await loadConfigFile(file, { env: {} })
  assert.equal(config.server.auth?.bearer?.token, 'tok-from-file')
  assert.equal(config.server.auth?.bearer?.tokenFile, join(dir, 'token'))
  assert.deepEqual(config.server.auth?.openPaths, ['/healthz', '/readyz'])
  assert.match(config.server.tls?.cert ?? '', /BEGIN CERTIFICATE/)
  assert.match(config.server.tls?.key ?? '', /BEGIN PRIVATE KEY/)
  const probe = config.targets[0]?.probes[0]
  assert.equal(probe?.kind === 'postgres' ? probe.postgres.password : undefined, 'pg-from-file')

  await writeFile(file, `server:
  auth:
    basic: { username: u, passwordFile: missing }
  tls: { certFile: token, keyFile: key.pem }
${TARGET}`)
  const error = await loadConfigFile(file, { env: {} }).then(() => undefined, (caught: unknown) => caught)
  assert.ok(error instanceof ConfigError)
  const missing = problemAt([...error.problems], 'server.auth.basic.passwordFile')
  assert.match(missing.message, /no such file/)
  assert.equal(missing.line, 3)
  assert.match(problemAt([...error.problems], 'server.tls.certFile').message, /not a PEM file/)
})

test('redactConfig hides tokens, passwords, header values and URL credentials, and leaves the config alone', async () => {
  const config = await parse(`server:
  auth:
    basic: { username: admin, password: hunter2 }
tracing:
  exporter: otlp
  endpoint: "https://user:otelpass@collector:4318/?api_key=k1"
targets:
  - name: app
    stats:
      url: "http://127.0.0.1:8000/stats?token=abc&page=1"
      headers: { Authorization: "Bearer s3cret" }
    probes:
      - name: db
        postgres: { url: "postgres://app:pgpass@db:5432/app" }
`)
  const redacted = redactConfig(config)
  const text = JSON.stringify(redacted)
  for (const secret of ['hunter2', 'otelpass', 'k1', 'abc', 's3cret', 'pgpass']) {
    assert.ok(!text.includes(secret), `${secret} leaked: ${text}`)
  }
  assert.equal(redacted.server.auth?.basic?.password, REDACTED)
  assert.equal(redacted.server.auth?.basic?.username, 'admin')
  assert.equal(redacted.targets[0]?.stats?.headers.Authorization, REDACTED)
  assert.equal(redacted.targets[0]?.stats?.url, `http://127.0.0.1:8000/stats?token=${REDACTED}&page=1`)
  const probe = redacted.targets[0]?.probes[0]
  assert.equal(probe?.kind === 'postgres' ? probe.postgres.url : undefined, `postgres://app:${REDACTED}@db:5432/app`)
  assert.equal(probe?.kind === 'postgres' ? probe.postgres.password : undefined, REDACTED)
  assert.ok(isDeepFrozen(redacted))
  // The original keeps its secrets: the agent still needs them.
  assert.equal(config.server.auth?.basic?.password, 'hunter2')
})

test('problem messages never echo a secret value', async () => {
  const problems = await problemsOf(`server:
  auth:
    bearer: { token: 123456789 }
targets:
  - name: app
    probes:
      - name: db
        postgres: { url: "mysql://app:topsecret@db/app" }
`)
  const text = problems.map(formatConfigProblem).join('\n')
  assert.ok(!text.includes('123456789'), text)
  assert.ok(!text.includes('topsecret'), text)
  assert.match(problemAt(problems, 'server.auth.bearer.token').message, /expected text/)
})

test('an unreadable file and a file that is not YAML are OUTRIGGER_ERR_CONFIG_READ', async (t) => {
  const dir = await tempDir(t)
  const missing = await loadConfigFile(join(dir, 'nope.yaml')).then(() => undefined, (caught: unknown) => caught)
  assert.ok(missing instanceof ConfigError)
  assert.equal(missing.code, 'OUTRIGGER_ERR_CONFIG_READ')
  assert.match(missing.message, /nope\.yaml.*no such file/)

  const file = join(dir, 'broken.yaml')
  await writeFile(file, `${TARGET}    process: { port: [1, }\n`)
  const broken = await loadConfigFile(file).then(() => undefined, (caught: unknown) => caught)
  assert.ok(broken instanceof ConfigError)
  assert.equal(broken.code, 'OUTRIGGER_ERR_CONFIG_READ')
  assert.equal(broken.problems.length, 1)
  assert.equal(broken.problems[0]?.line, 6)
  assert.match(broken.problems[0]?.message ?? '', /not valid YAML/)
})

test('an empty document and a non-mapping document are reported plainly', async () => {
  assert.match((await problemsOf(''))[0]?.message ?? '', /empty/)
  assert.match((await problemsOf('- 1\n'))[0]?.message ?? '', /expected a mapping, got a list/)
})
