/**
 * The scheduler runs every source on its own interval, with a random first delay (jitter) so
 * many targets don't fire together, a deadline per run, and never two runs of one source at once.
 * Every timer is unref'd: the scheduler alone never keeps the process alive.
 */
import { FAILURE_REASONS, type FailureReason } from '../errors.ts'
import type { CollectResult, Source } from '../types.ts'

/** Told about every finished run. Must not throw. */
export type RunListener = (source: Source, result: CollectResult, startedSeconds: number, durationSeconds: number) => void

/** Wraps one run, e.g. in a trace span; must call `run` exactly once and return its result. */
export type RunWrapper = (source: Source, run: () => Promise<CollectResult>) => Promise<CollectResult>

export interface SchedulerOptions {
  onRun: RunListener
  /** Wraps every run (tracing); default runs it as is. */
  wrap?: RunWrapper
  /**
   * Share of the first-run window a source's first run is delayed by at most, 0–1; default 1. The
   * window is the interval capped at {@link FIRST_RUN_WINDOW_SECONDS}, so a fresh agent is ready
   * within seconds while many sources still spread their runs apart.
   */
  jitter?: number
  /** Extra time past a run's deadline before a source that ignores its signal is given up on, in ms; default 1000. */
  graceMs?: number
  random?: () => number
}

/** Longest delay before a source's first run, in seconds. */
export const FIRST_RUN_WINDOW_SECONDS = 2

/** Runs sources periodically until `stop()`. */
export class Scheduler {
  readonly #sources: readonly Source[]
  readonly #options: SchedulerOptions
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #inFlight = new Map<string, Promise<void>>()
  /** Collects that overran their deadline and have not settled yet: not called again until they do. */
  readonly #overrunning = new Set<string>()
  readonly #stopped = new AbortController()

  constructor (sources: readonly Source[], options: SchedulerOptions) {
    this.#sources = sources
    this.#options = options
  }

  /** Starts every source's loop: the first run after a jittered delay, then every interval. */
  start (): void {
    const jitter = this.#options.jitter ?? 1
    const random = this.#options.random ?? Math.random
    for (const source of this.#sources) {
      this.#schedule(source, random() * jitter * Math.min(source.intervalSeconds, FIRST_RUN_WINDOW_SECONDS) * 1000)
    }
  }

  /** Runs every source once now, in parallel, and resolves when all are done. */
  async runAll (): Promise<void> {
    await Promise.all(this.#sources.map((source) => this.#runOnce(source)))
  }

  /** Stops scheduling, aborts runs in flight and waits for them to settle. Safe to call twice. */
  async stop (): Promise<void> {
    this.#stopped.abort()
    for (const timer of this.#timers) {
      clearTimeout(timer)
    }
    this.#timers.clear()
    await Promise.allSettled([...this.#inFlight.values()])
  }

  #schedule (source: Source, delayMs: number): void {
    if (this.#stopped.signal.aborted) {
      return
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      const started = Date.now()
      void this.#runOnce(source).then(() => {
        // Fixed rate: the next run is one interval after this one started, or now if it overran.
        this.#schedule(source, Math.max(0, started + source.intervalSeconds * 1000 - Date.now()))
      })
    }, delayMs)
    timer.unref()
    this.#timers.add(timer)
  }

  /** One run with its deadline; a run still in flight is not started again (no overlap). */
  #runOnce (source: Source): Promise<void> {
    const existing = this.#inFlight.get(source.id)
    if (existing !== undefined) {
      return existing
    }
    const run = this.#run(source).finally(() => this.#inFlight.delete(source.id))
    this.#inFlight.set(source.id, run)
    return run
  }

  async #run (source: Source): Promise<void> {
    const startedMs = Date.now()
    const startedHr = process.hrtime.bigint()
    const signal = AbortSignal.any([this.#stopped.signal, AbortSignal.timeout(source.timeoutSeconds * 1000)])
    const collect = (): Promise<CollectResult> => this.#overrunning.has(source.id)
      ? Promise.resolve({ families: [], failure: { reason: 'timeout', message: `${source.id}: the previous run overran its deadline and is still running` } })
      : collectWithDeadline(source, signal, this.#options.graceMs ?? 1000, this.#overrunning)
    let result: CollectResult
    try {
      result = this.#options.wrap === undefined ? await collect() : await this.#options.wrap(source, collect)
    } catch (error) {
      result = { families: [], failure: failureFromError(error, signal) }
    }
    if (this.#stopped.signal.aborted) {
      return
    }
    const durationSeconds = Number(process.hrtime.bigint() - startedHr) / 1e9
    this.#options.onRun(source, result, startedMs / 1000, durationSeconds)
  }
}

/**
 * Calls `source.collect(signal)`; a source that overruns its deadline by more than `graceMs`
 * (it ignored the signal) is reported as a timeout rather than waited on forever.
 */
async function collectWithDeadline (source: Source, signal: AbortSignal, graceMs: number, overrunning: Set<string>): Promise<CollectResult> {
  let timer: NodeJS.Timeout | undefined
  const collecting = source.collect(signal)
  const overrun = new Promise<CollectResult>((resolve) => {
    const giveUp = (): void => {
      timer = setTimeout(() => {
        overrunning.add(source.id)
        collecting.finally(() => overrunning.delete(source.id)).catch(() => {})
        resolve({
          families: [],
          failure: { reason: 'timeout', message: `${source.id} did not finish within its ${source.timeoutSeconds}s timeout` }
        })
      }, graceMs)
      timer.unref()
    }
    if (signal.aborted) {
      giveUp()
    } else {
      signal.addEventListener('abort', giveUp, { once: true })
    }
  })
  try {
    return await Promise.race([collecting, overrun])
  } finally {
    clearTimeout(timer)
  }
}

/** A source that threw (it should not) still becomes data: `internal`, or `timeout` past its deadline. */
function failureFromError (error: unknown, signal: AbortSignal): { reason: FailureReason, message: string } {
  if (signal.aborted) {
    return { reason: 'timeout', message: 'the run was aborted at its deadline' }
  }
  const reason = (error as { reason?: unknown })?.reason
  return {
    reason: FAILURE_REASONS.includes(reason as FailureReason) ? reason as FailureReason : 'internal',
    message: error instanceof Error ? error.message : String(error)
  }
}
