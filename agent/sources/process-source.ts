/**
 * The target process as the kernel sees it: CPU seconds, memory, threads, file descriptors, IO,
 * context switches and page faults, as `app_process_*` families (process-exporter's job for one app).
 *
 * On Linux everything comes from procfs: cumulative CPU seconds per mode, which is what Prometheus
 * wants, and more than pidusage offers (pidusage reads the same `/proc/<pid>/stat` for a CPU
 * percentage, keeps module-global history with an open file descriptor per pid, and loops forever
 * with `maxage: 0`). Elsewhere (macOS, Windows) pidusage is the portable reader: CPU seconds (user
 * and system together), resident memory and start time, for `pid` and `pidfile` selectors.
 */
import type pidusage from 'pidusage'
import { OutriggerError } from '../errors.ts'
import type { CollectResult, MetricFamily, ScalarSample, Source } from '../types.ts'
import { describeSelector, findProcess, readPidfile } from './process-finder.ts'
import type { ProcessSelector } from './process-finder.ts'
import { CLOCK_TICKS_PER_SECOND, ProcessGoneError, readBootTimeSeconds, readProcessUsage } from './process-usage.ts'
import type { ProcessUsage } from './process-usage.ts'
import { currentRunSpan } from '../tracing/run-span.ts'
import { ATTR_PROCESS_PID } from '../tracing/span-attributes.ts'

export type { ProcessSelector } from './process-finder.ts'

/** Every metric the process source yields; each sample carries `target`, some a bounded `mode`/`kind`. */
export const PROCESS_METRICS = {
  cpuSeconds: { name: 'app_process_cpu_seconds_total', type: 'counter', help: 'CPU time the target process used, in seconds, by mode (user, system).' },
  residentMemory: { name: 'app_process_resident_memory_bytes', type: 'gauge', help: 'Resident memory of the target process, in bytes.' },
  virtualMemory: { name: 'app_process_virtual_memory_bytes', type: 'gauge', help: 'Virtual memory size of the target process, in bytes.' },
  openFds: { name: 'app_process_open_fds', type: 'gauge', help: 'Open file descriptors of the target process.' },
  maxFds: { name: 'app_process_max_fds', type: 'gauge', help: 'Soft limit on open file descriptors of the target process.' },
  threads: { name: 'app_process_threads', type: 'gauge', help: 'Threads of the target process.' },
  ioReadBytes: { name: 'app_process_io_read_bytes_total', type: 'counter', help: 'Bytes the target process caused to be read from storage, in bytes (read_bytes of /proc/<pid>/io).' },
  ioWriteBytes: { name: 'app_process_io_write_bytes_total', type: 'counter', help: 'Bytes the target process caused to be written to storage, in bytes (write_bytes of /proc/<pid>/io).' },
  contextSwitches: { name: 'app_process_context_switches_total', type: 'counter', help: 'Context switches of the target process, by kind (voluntary, involuntary).' },
  pageFaults: { name: 'app_process_page_faults_total', type: 'counter', help: 'Page faults of the target process, by kind (minor, major).' },
  startTime: { name: 'app_process_start_time_seconds', type: 'gauge', help: 'Start time of the target process, in seconds since the Unix epoch.' },
  pid: { name: 'app_process_pid', type: 'gauge', help: 'Process id of the followed target process; changes when it restarts.' }
} as const satisfies Record<string, { name: string, type: 'counter' | 'gauge', help: string }>

/** Options of {@link ProcessSource}. */
export interface ProcessSourceOptions {
  target: string
  selector: ProcessSelector
  /** Run period in seconds. */
  intervalSeconds: number
  /** Deadline of one run in seconds. */
  timeoutSeconds: number
  /** procfs mount point; default `/proc` (set it when the host's procfs is mounted elsewhere). */
  procRoot?: string
  /** Platform whose reader to use; default `process.platform`. Anything but `linux` reads through pidusage. */
  platform?: NodeJS.Platform
}

/** The followed process: pid plus start time, which together survive pid reuse. */
interface Followed {
  pid: number
  /** procfs: start time in clock ticks after boot; pidusage: start time in milliseconds since the epoch. */
  start: number
}

/** pidusage derives the start time from "now − elapsed", so it wobbles by a few milliseconds between reads. */
const PIDUSAGE_START_TOLERANCE_MS = 1000

/**
 * pidusage, imported at its first use: on Linux the source reads procfs and never calls it, and
 * pidusage loads `child_process` and its own helpers (about 1 MiB of an idle agent's memory).
 */
async function loadPidusage (): Promise<typeof pidusage> {
  return (await import('pidusage')).default
}

/**
 * Reads the target process's usage on every run. The pid is resolved once and followed; it is resolved
 * again when that process is gone or its start time changed (a restarted app is picked up, a reused
 * pid is not mistaken for it). A process that cannot be found is a `not_found` failure naming the
 * selector; an overrun deadline is `timeout`; an unexpected read error is `internal`.
 */
export class ProcessSource implements Source {
  readonly id: string
  readonly target: string
  readonly kind = 'process' as const
  readonly intervalSeconds: number
  readonly timeoutSeconds: number
  readonly #selector: ProcessSelector
  readonly #procRoot: string
  readonly #useProcfs: boolean
  #followed: Followed | undefined
  /** For a `pid` selector: the start time first seen, so a reuse of that pid is not followed. */
  #pinnedStart: number | undefined
  #bootTimeSeconds: number | undefined
  #usedPidusage = false

  /** @throws OutriggerError `OUTRIGGER_ERR_CONFIG_INVALID` for a malformed selector or interval. */
  constructor (options: ProcessSourceOptions) {
    const problems = checkOptions(options)
    if (problems.length > 0) {
      throw new OutriggerError('OUTRIGGER_ERR_CONFIG_INVALID', `process source ${JSON.stringify(options.target)}: ${problems.join('; ')}`)
    }
    this.target = options.target
    this.id = `${options.target}/process`
    this.intervalSeconds = options.intervalSeconds
    this.timeoutSeconds = options.timeoutSeconds
    this.#selector = options.selector
    this.#procRoot = options.procRoot ?? '/proc'
    this.#useProcfs = (options.platform ?? process.platform) === 'linux'
  }

  /** The pid followed after the last run, if any. */
  get pid (): number | undefined {
    return this.#followed?.pid
  }

  async collect (signal: AbortSignal): Promise<CollectResult> {
    try {
      const result = this.#useProcfs ? await this.#collectProcfs(signal) : await this.#collectPidusage(signal)
      currentRunSpan()?.setAttributes({ [ATTR_PROCESS_PID]: this.pid })
      return result
    } catch (error) {
      if (signal.aborted) {
        return { families: [], failure: { reason: 'timeout', message: `reading process ${describeSelector(this.#selector)} took longer than ${this.timeoutSeconds}s` } }
      }
      return { families: [], failure: { reason: 'internal', message: `reading process ${describeSelector(this.#selector)}: ${(error as Error).message}` } }
    }
  }

  /** Nothing to release on Linux; elsewhere drops pidusage's history (module-global, shared by every user). */
  async close (): Promise<void> {
    if (this.#usedPidusage) {
      this.#usedPidusage = false
      const usage = await loadPidusage()
      usage.clear()
    }
  }

  async #collectProcfs (signal: AbortSignal): Promise<CollectResult> {
    let usage = await this.#readFollowed(signal)
    if (usage === undefined) {
      this.#followed = undefined
      const found = await findProcess(this.#selector, { procRoot: this.#procRoot, selfPid: process.pid, signal })
      if ('notFound' in found) return this.#notFound(found.notFound)
      try {
        usage = await readProcessUsage(this.#procRoot, found.pid, signal)
      } catch (error) {
        if (error instanceof ProcessGoneError) return this.#notFound(`process ${found.pid} exited while being read`)
        throw error
      }
      if ('pid' in this.#selector) {
        this.#pinnedStart ??= usage.startTicks
        if (usage.startTicks !== this.#pinnedStart) return this.#notFound(`pid ${found.pid} now belongs to another process (start time changed)`)
      }
      this.#followed = { pid: found.pid, start: usage.startTicks }
    }
    this.#bootTimeSeconds ??= await readBootTimeSeconds(this.#procRoot, signal)
    return { families: this.#procfsFamilies(usage, this.#bootTimeSeconds) }
  }

  /** Reads the followed process, or undefined when it is gone or its pid now names another process. */
  async #readFollowed (signal: AbortSignal): Promise<ProcessUsage | undefined> {
    const followed = this.#followed
    if (followed === undefined) return undefined
    try {
      const usage = await readProcessUsage(this.#procRoot, followed.pid, signal)
      return usage.startTicks === followed.start ? usage : undefined
    } catch (error) {
      if (error instanceof ProcessGoneError) return undefined
      throw error
    }
  }

  #notFound (detail: string): CollectResult {
    return { families: [], failure: { reason: 'not_found', message: `process ${describeSelector(this.#selector)} not found: ${detail}` } }
  }

  #procfsFamilies (usage: ProcessUsage, bootTimeSeconds: number): MetricFamily[] {
    const target = this.target
    const one = (value: number): ScalarSample[] => [{ labels: { target }, value }]
    const families: MetricFamily[] = [
      family('cpuSeconds', [
        { labels: { target, mode: 'user' }, value: usage.userSeconds },
        { labels: { target, mode: 'system' }, value: usage.systemSeconds }
      ]),
      family('residentMemory', one(usage.residentBytes)),
      family('virtualMemory', one(usage.virtualBytes))
    ]
    if (usage.openFds !== undefined) families.push(family('openFds', one(usage.openFds)))
    if (usage.maxFds !== undefined) families.push(family('maxFds', one(usage.maxFds)))
    families.push(family('threads', one(usage.threads)))
    if (usage.ioReadBytes !== undefined) families.push(family('ioReadBytes', one(usage.ioReadBytes)))
    if (usage.ioWriteBytes !== undefined) families.push(family('ioWriteBytes', one(usage.ioWriteBytes)))
    if (usage.voluntaryContextSwitches !== undefined && usage.involuntaryContextSwitches !== undefined) {
      families.push(family('contextSwitches', [
        { labels: { target, kind: 'voluntary' }, value: usage.voluntaryContextSwitches },
        { labels: { target, kind: 'involuntary' }, value: usage.involuntaryContextSwitches }
      ]))
    }
    families.push(
      family('pageFaults', [
        { labels: { target, kind: 'minor' }, value: usage.minorFaults },
        { labels: { target, kind: 'major' }, value: usage.majorFaults }
      ]),
      family('startTime', one(bootTimeSeconds + usage.startTicks / CLOCK_TICKS_PER_SECOND)),
      family('pid', one(usage.pid))
    )
    return families
  }

  async #collectPidusage (signal: AbortSignal): Promise<CollectResult> {
    const selector = this.#selector
    if ('cmdline' in selector || 'port' in selector) {
      return this.#notFound(`selecting by ${'port' in selector ? 'port' : 'cmdline'} needs Linux procfs; select by pid or pidfile on ${process.platform}`)
    }
    const found = 'pid' in selector ? { pid: selector.pid } : await readPidfile(selector.pidfile, signal)
    if ('notFound' in found) return this.#notFound(found.notFound)
    const pid = found.pid
    this.#usedPidusage = true
    let stat: pidusage.Status
    try {
      stat = await (await loadPidusage())(pid)
    } catch (error) {
      signal.throwIfAborted()
      this.#followed = undefined
      return this.#notFound(`pid ${pid}: ${(error as Error).message}`)
    }
    signal.throwIfAborted()
    const start = stat.timestamp - stat.elapsed
    if ('pid' in selector) {
      this.#pinnedStart ??= start
      if (Math.abs(start - this.#pinnedStart) > PIDUSAGE_START_TOLERANCE_MS) {
        return this.#notFound(`pid ${pid} now belongs to another process (start time changed)`)
      }
    }
    this.#followed = { pid, start }
    const target = this.target
    return {
      families: [
        // pidusage reports user and system time together, so there is no `mode` label here.
        family('cpuSeconds', [{ labels: { target }, value: stat.ctime / 1000 }]),
        family('residentMemory', [{ labels: { target }, value: stat.memory }]),
        family('startTime', [{ labels: { target }, value: Math.round(start) / 1000 }]),
        family('pid', [{ labels: { target }, value: pid }])
      ]
    }
  }
}

function family (key: keyof typeof PROCESS_METRICS, samples: ScalarSample[]): MetricFamily {
  const { name, type, help } = PROCESS_METRICS[key]
  return { name, type, help, samples }
}

function checkOptions (options: ProcessSourceOptions): string[] {
  const problems: string[] = []
  if (typeof options.target !== 'string' || options.target === '') problems.push(`target must be a non-empty string, got ${JSON.stringify(options.target)}`)
  const selector = options.selector as Record<string, unknown> | undefined
  const keys = selector === undefined || selector === null ? [] : Object.keys(selector)
  if (keys.length !== 1) {
    problems.push(`selector must have exactly one of pid, pidfile, cmdline, port; got ${JSON.stringify(keys)}`)
  } else {
    const value = selector![keys[0]!]
    switch (keys[0]) {
      case 'pid':
        if (!Number.isInteger(value) || (value as number) < 1) problems.push(`selector pid must be a positive integer, got ${JSON.stringify(value)}`)
        break
      case 'pidfile':
        if (typeof value !== 'string' || value === '') problems.push(`selector pidfile must be a path, got ${JSON.stringify(value)}`)
        break
      case 'cmdline':
        if (!(value instanceof RegExp)) problems.push(`selector cmdline must be a RegExp, got ${JSON.stringify(value)}`)
        break
      case 'port':
        if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535) problems.push(`selector port must be an integer 1-65535, got ${JSON.stringify(value)}`)
        break
      default:
        problems.push(`unknown selector ${JSON.stringify(keys[0])}; use pid, pidfile, cmdline or port`)
    }
  }
  for (const key of ['intervalSeconds', 'timeoutSeconds'] as const) {
    const value = options[key]
    if (typeof value !== 'number' || !(value > 0)) problems.push(`${key} must be a positive number, got ${JSON.stringify(value)}`)
  }
  return problems
}
