import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseCommandLine } from '../../agent/cli/command-line.ts'
import { OutriggerError } from '../../agent/errors.ts'

const BIN = fileURLToPath(new URL('../../agent/bin/outrigger.ts', import.meta.url))
const EXAMPLE = fileURLToPath(new URL('../../examples/outrigger.yaml', import.meta.url))
const SCHEMA = fileURLToPath(new URL('../../docs/schemas/outrigger.config.schema.json', import.meta.url))
const PACKAGE = fileURLToPath(new URL('../../package.json', import.meta.url))

/** The environment without this machine's OUTRIGGER_* settings, plus `extra`. */
function cleanEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const name of Object.keys(env)) if (name.startsWith('OUTRIGGER_') || name === 'PORT') delete env[name]
  return { ...env, ...extra }
}

interface Run { code: number | null, stdout: string, stderr: string }

async function cli (args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const [code] = await once(child, 'close') as [number | null]
  return { code, stdout, stderr }
}

function assertNoStackTrace (run: Run): void {
  assert.ok(!run.stderr.includes('    at '), `stack trace on stderr:\n${run.stderr}`)
}

async function tempDir (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'outrigger-cli-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

test('check exits 0 on the example and says what it holds', async () => {
  const run = await cli(['check', '--config', EXAMPLE])
  assert.equal(run.code, 0, run.stderr)
  assert.match(run.stdout, /outrigger\.yaml: ok \(2 targets, 6 sources\)/)
  assert.equal(run.stderr, '')
})

test('check takes the file from OUTRIGGER_CONFIG', async () => {
  const run = await cli(['check'], { OUTRIGGER_CONFIG: EXAMPLE })
  assert.equal(run.code, 0, run.stderr)
})

test('check exits 2 listing every problem as file:line:col path: message, without a stack trace', async (t) => {
  const file = join(await tempDir(t), 'bad.yaml')
  await writeFile(file, `defaults:
  intervall: 10s
targets:
  - name: app
    stats:
      url: http://127.0.0.1:8000/stats
      interval: 5s
      timeout: 5s
    probes:
      - name: db
        postgres: { url: "postgres://app:\${PGPASSWORD}@db/app" }
`)
  const run = await cli(['check', '--config', file])
  assert.equal(run.code, 2)
  assertNoStackTrace(run)
  const lines = run.stderr.trimEnd().split('\n')
  assert.deepEqual(lines, [
    `${file}:2:3 defaults.intervall: unknown key \`intervall\`; did you mean \`interval\`?`,
    `${file}:8:16 targets[0].stats.timeout: timeout 5s must be below interval 5s for targets[0].stats`,
    `${file}:11:26 targets[0].probes[0].postgres.url: environment variable \`PGPASSWORD\` is not set and \`\${PGPASSWORD}\` has no default; set it or write \`\${PGPASSWORD:-default}\``,
    `outrigger: ${file} is invalid (3 problems)`
  ])
  assert.equal(run.stdout, '')
})

test('check exits 2 with one clear line when the file is missing', async () => {
  const run = await cli(['check', '--config', '/nonexistent/outrigger.yaml'])
  assert.equal(run.code, 2)
  assertNoStackTrace(run)
  assert.equal(run.stderr, 'outrigger: cannot read config file `/nonexistent/outrigger.yaml`: no such file (ENOENT)\n')
})

test('check exits 2 on a YAML syntax error, pointing at the line', async (t) => {
  const file = join(await tempDir(t), 'broken.yaml')
  await writeFile(file, 'targets:\n  - name: app\n    process: { port: [1, }\n')
  const run = await cli(['check', '--config', file])
  assert.equal(run.code, 2)
  assertNoStackTrace(run)
  assert.match(run.stderr, new RegExp(`^${file.replaceAll('.', '\\.')}:3:\\d+: not valid YAML`))
})

test('an unknown option, an unknown command and a missing config exit 2 with a usage hint', async () => {
  const unknownOption = await cli(['check', '--confg', EXAMPLE])
  assert.equal(unknownOption.code, 2)
  assertNoStackTrace(unknownOption)
  assert.match(unknownOption.stderr, /unknown option `--confg`; did you mean `--config`\?/)
  assert.match(unknownOption.stderr, /outrigger --help/)

  const unknownCommand = await cli(['chek', '--config', EXAMPLE])
  assert.equal(unknownCommand.code, 2)
  assert.match(unknownCommand.stderr, /unknown command `chek`; did you mean `check`\?/)

  const noConfig = await cli([])
  assert.equal(noConfig.code, 2)
  assertNoStackTrace(noConfig)
  assert.match(noConfig.stderr, /no config file: pass `--config FILE` or set OUTRIGGER_CONFIG/)
})

test('schema prints exactly the committed JSON Schema', async () => {
  const run = await cli(['schema'])
  assert.equal(run.code, 0, run.stderr)
  assert.equal(run.stdout, await readFile(SCHEMA, 'utf8'))
})

test('--help and --version exit 0', async () => {
  const help = await cli(['--help'])
  assert.equal(help.code, 0)
  for (const command of ['check --config FILE', 'probe --config FILE', 'schema', 'OUTRIGGER_CONFIG', 'OUTRIGGER_LISTEN']) {
    assert.ok(help.stdout.includes(command), `help lacks ${command}`)
  }
  const version = await cli(['--version'])
  assert.equal(version.code, 0)
  const { version: expected } = JSON.parse(await readFile(PACKAGE, 'utf8')) as { version: string }
  assert.equal(version.stdout, `${expected}\n`)
})

test('running with an invalid config exits 2 before starting anything', async (t) => {
  const file = join(await tempDir(t), 'bad.yaml')
  await writeFile(file, 'targets: []\n')
  const run = await cli(['--config', file, '--listen', '127.0.0.1:0'])
  assert.equal(run.code, 2)
  assertNoStackTrace(run)
  assert.match(run.stderr, /targets: at least one target is required/)
})

test('the agent runs, reloads on SIGHUP, and exits 0 on SIGTERM', async (t) => {
  const file = join(await tempDir(t), 'agent.yaml')
  // The config's address is taken by nobody; --listen must win over it.
  await writeFile(file, `server: { listen: "127.0.0.1:1" }
targets:
  - name: nothing
    probes:
      - name: closed
        tcp: { address: "127.0.0.1:1" }
        interval: 1h
`)
  const child = spawn(process.execPath, [BIN, '--config', file, '--listen', '127.0.0.1:0'], {
    env: cleanEnv({ OUTRIGGER_LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>
  const logs: Array<Record<string, unknown>> = []
  const waiters: Array<{ match: (entry: Record<string, unknown>) => boolean, resolve: (entry: Record<string, unknown>) => void }> = []
  createInterface({ input: child.stdout }).on('line', (line) => {
    const entry = JSON.parse(line) as Record<string, unknown>
    logs.push(entry)
    for (const waiter of waiters.filter((candidate) => candidate.match(entry))) waiter.resolve(entry)
  })
  const logged = async (msg: string): Promise<Record<string, unknown>> => {
    const seen = logs.find((entry) => entry.msg === msg)
    if (seen !== undefined) return seen
    const deadline = AbortSignal.timeout(30_000)
    return await new Promise((resolve, reject) => {
      waiters.push({ match: (entry) => entry.msg === msg, resolve })
      deadline.addEventListener('abort', () => { reject(new Error(`no "${msg}" log line; stderr: ${stderr}; logs: ${JSON.stringify(logs)}`)) })
      void exited.then(([code]) => { reject(new Error(`exited with ${String(code)} before "${msg}"; stderr: ${stderr}`)) })
    })
  }

  const started = await logged('agent started')
  const url = String(started.url)
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
  assert.notEqual(url, 'http://127.0.0.1:1')
  const health = await fetch(`${url}/healthz`)
  assert.equal(health.status, 200)
  await health.body?.cancel()

  child.kill('SIGHUP')
  await logged('configuration reloaded')

  child.kill('SIGTERM')
  const [code, signal] = await exited
  assert.equal(signal, null)
  assert.equal(code, 0, stderr)
  assert.ok(logs.some((entry) => entry.msg === 'stopped'))
  assert.equal(stderr, '')
})

test('parseCommandLine: precedence of flags over environment, and usage errors', () => {
  assert.deepEqual(parseCommandLine(['--config', 'a.yaml'], { OUTRIGGER_CONFIG: 'b.yaml', OUTRIGGER_LISTEN: '0.0.0.0:1' }),
    { name: 'run', configPath: 'a.yaml', listen: '0.0.0.0:1', logLevel: 'info' })
  assert.deepEqual(parseCommandLine(['-c', 'a.yaml', '-l', '[::1]:9'], { OUTRIGGER_LISTEN: '0.0.0.0:1' }),
    { name: 'run', configPath: 'a.yaml', listen: '[::1]:9', logLevel: 'info' })
  assert.deepEqual(parseCommandLine(['probe'], { OUTRIGGER_CONFIG: 'b.yaml', OUTRIGGER_LOG_LEVEL: 'debug' }),
    { name: 'probe', configPath: 'b.yaml', logLevel: 'debug' })
  assert.deepEqual(parseCommandLine(['check', '--help'], {}), { name: 'help' })
  assert.deepEqual(parseCommandLine(['schema'], { OUTRIGGER_CONFIG: 'ignored.yaml' }), { name: 'schema' })

  const usage = (argv: string[], env: Record<string, string>, message: RegExp): void => {
    assert.throws(() => parseCommandLine(argv, env), (error: unknown) => {
      assert.ok(error instanceof OutriggerError)
      assert.equal(error.code, 'OUTRIGGER_ERR_USAGE')
      assert.match(error.message, message)
      return true
    })
  }
  usage(['check', '--config', 'a.yaml', '--listen', '127.0.0.1:1'], {}, /`--listen` applies only when running the agent/)
  usage(['--config', 'a.yaml', '--listen', 'nowhere'], {}, /--listen: `nowhere` is not HOST:PORT/)
  usage(['--config', 'a.yaml'], { OUTRIGGER_LISTEN: 'nowhere' }, /OUTRIGGER_LISTEN: `nowhere` is not HOST:PORT/)
  usage(['--config', 'a.yaml'], { OUTRIGGER_LOG_LEVEL: 'loud' }, /OUTRIGGER_LOG_LEVEL=`loud` is not a log level/)
  usage(['check', 'extra', '--config', 'a.yaml'], {}, /unexpected argument `extra`/)
  usage(['schema', '--config', 'a.yaml'], {}, /`schema` takes no `--config`/)
  usage(['--config'], {}, /`--config` needs a value/)
})
