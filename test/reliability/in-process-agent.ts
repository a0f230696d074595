/**
 * Runs the real agent (`startAgent`, the composition root `main.ts` uses) inside the test process
 * from a YAML text, with its log lines kept, and reads its HTTP endpoints.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import pino from 'pino'
import { startAgent, type RunningAgent } from '../../agent/agent.ts'
import { loadConfigFile } from '../../agent/config/index.ts'
import type { SourceReport } from '../../agent/exporters/targets-report.ts'

/** An agent started by {@link startInProcessAgent}. */
export interface InProcessAgent {
  agent: RunningAgent
  /** The config file the agent reloads from. */
  configPath: string
  /** Every log line (pino JSON) written so far. */
  logs: string[]
  /** GET `path` with the given headers; the body read in full. */
  get (path: string, headers?: Record<string, string>): Promise<{ status: number, body: string, headers: Headers }>
  /** `/api/targets` flattened: source id → report. */
  sources (headers?: Record<string, string>): Promise<Map<string, SourceReport>>
}

/** Options of {@link startInProcessAgent}. */
export interface InProcessAgentOptions {
  /** Variables for `${VAR}` expansion, on top of `process.env`. */
  env?: Record<string, string>
  /** Files written next to the config before it loads (name → content), such as TLS keys. */
  files?: Record<string, string>
}

/**
 * Writes `yaml` to a temp file (with `options.files` beside it), loads it and starts the agent;
 * everything is closed and removed in `t.after`.
 */
export async function startInProcessAgent (t: TestContext, yaml: string, options: InProcessAgentOptions = {}): Promise<InProcessAgent> {
  const dir = await mkdtemp(join(tmpdir(), 'outrigger-reliability-'))
  const running: { agent?: RunningAgent } = {}
  t.after(async () => {
    await running.agent?.close()
    await rm(dir, { recursive: true, force: true })
  })
  const configPath = join(dir, 'outrigger.yaml')
  await writeFile(configPath, yaml)
  for (const [name, content] of Object.entries(options.files ?? {})) await writeFile(join(dir, name), content)
  const logs: string[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => { logs.push(line) } })
  const config = await loadConfigFile(configPath, { env: { ...process.env, ...options.env } })
  const agent = await startAgent({ config, configPath, logger })
  running.agent = agent
  const get = async (path: string, headers: Record<string, string> = {}): Promise<{ status: number, body: string, headers: Headers }> => {
    const response = await fetch(`${agent.url}${path}`, { headers })
    return { status: response.status, body: await response.text(), headers: response.headers }
  }
  return {
    agent,
    configPath,
    logs,
    get,
    sources: async (headers = {}) => {
      const { status, body } = await get('/api/targets', headers)
      if (status !== 200) throw new Error(`/api/targets answered ${status}: ${body}`)
      const report = JSON.parse(body) as { targets: Array<{ sources: SourceReport[] }> }
      return new Map(report.targets.flatMap((target) => target.sources.map((source) => [source.id, source] as const)))
    }
  }
}

/** The value of the sample `name{labels}` in a text exposition, matched exactly; undefined when absent. */
export function sampleValue (exposition: string, name: string, labels: string): number | undefined {
  const prefix = `${name}{${labels}} `
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(prefix))
  return line === undefined ? undefined : Number(line.slice(prefix.length))
}
