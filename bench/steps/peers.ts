/**
 * Step 5: the agent against the exporters it replaces, side by side in one run of the peers'
 * footprint script (blackbox_exporter + process-exporter + postgres_exporter doing one job every
 * second, scraped by a real Prometheus). The agent does the same job from bench/configs/peers-job.yaml.
 * In the short mode a machine without the exporters skips the step; in the full mode it fails.
 */
import { spawn } from 'node:child_process'
import { constants, createWriteStream } from 'node:fs'
import { access, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { BenchContext } from '../bench-context.ts'
import { AGENT_ENTRY } from '../agent-process.ts'
import { REPO_ROOT } from '../child-service.ts'
import type { StepOutcome } from '../results.ts'
import { rounded } from '../statistics.ts'

/** Binaries the script needs; Debian packages in the message. */
const PEER_BINARIES = ['prometheus', 'prometheus-blackbox-exporter', 'prometheus-process-exporter', 'prometheus-postgres-exporter', 'curl', 'setsid']
const INSTALL_HINT = 'apt-get install -y --no-install-recommends prometheus prometheus-blackbox-exporter prometheus-process-exporter prometheus-postgres-exporter curl'

export interface PeerRow {
  name: string
  rssMiB: number | null
  peakRssMiB: number | null
  pssMiB: number | null
  cpuPercent: number | null
}

export interface PeersResult {
  durationSeconds: number
  warmupSeconds: number
  scrapeInterval: string
  peers: PeerRow[]
  peersTotal: { rssMiB: number | null, cpuPercent: number | null, pssMiB: number | null }
  agent: PeerRow
  /** Agent / peers' sum: ≤ 1.0 means the agent costs no more than what it replaces. */
  rssRatio: number | null
  cpuRatio: number | null
  /** The same for PSS, which splits shared pages (fairer to a process whose binary is large). */
  pssRatio: number | null
  /** Whole machine CPU busy during the window, %. */
  machineBusyPercent: number | null
  versions: Record<string, string>
  /** Checks the script made that failed (targets down, metrics missing); empty when all passed. */
  failedChecks: string[]
}

/** Runs step 5, or skips it (short mode) / fails it (full mode) when the peers are not installed. */
export async function runPeers (ctx: BenchContext): Promise<PeersResult | StepOutcome<never>> {
  const settings = ctx.options.peers
  const missing = [...await missingBinaries(), ...(await isExecutable(settings.script) ? [] : [settings.script])]
  if (missing.length > 0) {
    const message = `peers not available (missing: ${missing.join(', ')}); install them with: ${INSTALL_HINT}` +
      (settings.script === missing.at(-1) ? '; or set PEERS_FOOTPRINT_SCRIPT to peers-footprint.sh' : '')
    if (ctx.options.mode === 'short') {
      ctx.log(`skipping step 5: ${message}`)
      return { status: 'skipped', reason: message }
    }
    throw new Error(message)
  }

  const resultFile = join(ctx.logDir, 'peers-footprint.json')
  const agentCommand = `exec ${process.execPath} ${join(REPO_ROOT, AGENT_ENTRY)} --config ${join(REPO_ROOT, 'bench', 'configs', 'peers-job.yaml')}`
  ctx.log(`running ${settings.script} (${settings.durationSeconds} s window after ${settings.warmupSeconds} s warm-up) with the agent beside the peers`)
  const exitCode = await runScript(settings.script, {
    DURATION: String(settings.durationSeconds),
    WARMUP: String(settings.warmupSeconds),
    RESULT_JSON: resultFile,
    AGENT_CMD: agentCommand,
    AGENT_NAME: 'outrigger',
    AGENT_EXPECT_METRICS: 'probe_success,app_process_resident_memory_bytes',
    OUTRIGGER_LOG_LEVEL: 'warn',
    OTEL_TRACES_EXPORTER: 'none'
  }, ctx)
  // 3 = measured, but a check failed: the figures are still real; the failures are reported.
  if (exitCode !== 0 && exitCode !== 3) {
    throw new Error(`${settings.script} exited with code ${exitCode}; see ${join(ctx.logDir, 'peers-footprint.log')}`)
  }
  return parseResult(JSON.parse(await readFile(resultFile, 'utf8')) as ScriptResult, settings)
}

/** The part of the script's RESULT_JSON this step reads. */
interface ScriptRow { name: string, rss_mib: number, peak_mib: number, pss_mib: number, cpu_pct: number }
interface ScriptResult {
  window_s: number
  warmup_s: number
  scrape_interval: string
  machine_busy_pct: number | null
  versions: Record<string, string>
  peers: ScriptRow[]
  peers_total: { rss_mib: number, cpu_pct: number, pss_mib: number }
  agent: ScriptRow | null
  failures: string[]
}

function parseResult (raw: ScriptResult, settings: BenchContext['options']['peers']): PeersResult {
  const row = (r: ScriptRow): PeerRow => ({
    name: r.name,
    rssMiB: rounded(r.rss_mib, 1),
    peakRssMiB: rounded(r.peak_mib, 1),
    pssMiB: rounded(r.pss_mib, 1),
    cpuPercent: rounded(r.cpu_pct, 2)
  })
  if (raw.agent === null) throw new Error('the peers script measured no agent row')
  const agent = row(raw.agent)
  const ratio = (a: number | null, b: number): number | null => a === null || !(b > 0) ? null : rounded(a / b, 3)
  return {
    durationSeconds: rounded(raw.window_s, 1) ?? settings.durationSeconds,
    warmupSeconds: raw.warmup_s,
    scrapeInterval: raw.scrape_interval,
    peers: raw.peers.map(row),
    peersTotal: { rssMiB: rounded(raw.peers_total.rss_mib, 1), cpuPercent: rounded(raw.peers_total.cpu_pct, 2), pssMiB: rounded(raw.peers_total.pss_mib, 1) },
    agent,
    rssRatio: ratio(raw.agent.rss_mib, raw.peers_total.rss_mib),
    cpuRatio: ratio(raw.agent.cpu_pct, raw.peers_total.cpu_pct),
    pssRatio: ratio(raw.agent.pss_mib, raw.peers_total.pss_mib),
    machineBusyPercent: rounded(raw.machine_busy_pct, 1),
    versions: raw.versions,
    failedChecks: raw.failures
  }
}

/** Runs the script; its stderr (progress) is echoed, both streams go to peers-footprint.log. */
async function runScript (script: string, env: Record<string, string>, ctx: BenchContext): Promise<number> {
  const log = createWriteStream(join(ctx.logDir, 'peers-footprint.log'))
  const child = spawn('bash', [script], {
    cwd: REPO_ROOT,
    // The script runs `node` for its helpers: make it this Node.
    env: { ...process.env, ...env, PATH: `${join(process.execPath, '..')}:${process.env.PATH ?? ''}` },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child.stdout.pipe(log, { end: false })
  let pending = ''
  child.stderr.on('data', (chunk: Buffer) => {
    log.write(chunk)
    pending += chunk.toString()
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) ctx.log(`  peers: ${line}`)
  })
  const code = await new Promise<number>((resolve) => {
    child.once('close', (exitCode, signal) => { resolve(exitCode ?? (signal === null ? 1 : 128)) })
  })
  await new Promise<void>((resolve) => { log.end(resolve) })
  return code
}

async function isExecutable (path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK)
    return true
  } catch {
    return false
  }
}

async function missingBinaries (): Promise<string[]> {
  const dirs = (process.env.PATH ?? '').split(':').filter((dir) => dir !== '')
  const missing: string[] = []
  for (const binary of PEER_BINARIES) {
    let found = false
    for (const dir of dirs) {
      try {
        await access(join(dir, binary), constants.X_OK)
        found = true
        break
      } catch {
        // not in this directory
      }
    }
    if (!found) missing.push(binary)
  }
  return missing
}
