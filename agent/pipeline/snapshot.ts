/**
 * The snapshot: the last result of every source, kept so `/metrics` renders from memory and never
 * waits on a target. A source that fails keeps its last good families for a while (a blip does not
 * punch a hole in every graph) but no longer than `staleAfterIntervals` intervals, after which they
 * are dropped and Prometheus marks the series stale.
 */
import type { FailureReason } from '../errors.ts'
import type { CollectResult, MetricFamily, Source, SourceFailure } from '../types.ts'

/** What the agent knows about one source, for `/metrics`, `/api/targets` and readiness. */
export interface SourceState {
  readonly id: string
  readonly target: string
  /** `stats`, `process`, or `<probe kind>/<probe name>`. */
  readonly source: string
  readonly kind: Source['kind']
  readonly intervalSeconds: number
  readonly timeoutSeconds: number
  /** Runs completed, successful or not. */
  runs: number
  /** Whether the last run succeeded; undefined before the first run. */
  up: boolean | undefined
  /** Seconds the last run took. */
  lastDurationSeconds: number | undefined
  /** Unix seconds of the last run's start. */
  lastRunSeconds: number | undefined
  /** Unix seconds of the last successful run's start. */
  lastSuccessSeconds: number | undefined
  lastFailure: SourceFailure | undefined
  /** Failures counted by reason since the agent started (kept across reloads). */
  errors: Map<FailureReason, number>
  /** Durations of every run, as cumulative buckets, for `outrigger_source_duration_seconds`. */
  durations: { buckets: number[], sum: number, count: number }
  /** Families to expose now. */
  families: MetricFamily[]
  /** Unix seconds when `families` were produced. */
  familiesAtSeconds: number | undefined
  /** Trace of the last run, for exemplars. */
  lastTrace: { traceId: string, spanId: string } | undefined
}

/** Bucket bounds of `outrigger_source_duration_seconds`, in seconds. */
export const SOURCE_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export interface SnapshotOptions {
  /** Intervals a failing source's last good families are kept; default 2. */
  staleAfterIntervals?: number
  /** Clock in Unix seconds; injected by tests. */
  now?: () => number
}

/** The last known state of every source, keyed by source id. */
export class Snapshot {
  readonly #states = new Map<string, SourceState>()
  readonly #staleAfterIntervals: number
  readonly #now: () => number

  constructor (options: SnapshotOptions = {}) {
    this.#staleAfterIntervals = options.staleAfterIntervals ?? 2
    this.#now = options.now ?? (() => Date.now() / 1000)
  }

  /**
   * Makes the tracked sources exactly `sources`: new ones start empty, removed ones are forgotten,
   * ones that stay (same id) keep their state, so a reload does not blank `/metrics`.
   */
  track (sources: readonly Source[]): void {
    const keep = new Set(sources.map((source) => source.id))
    for (const id of this.#states.keys()) {
      if (!keep.has(id)) {
        this.#states.delete(id)
      }
    }
    for (const source of sources) {
      const existing = this.#states.get(source.id)
      if (existing === undefined || existing.intervalSeconds !== source.intervalSeconds || existing.timeoutSeconds !== source.timeoutSeconds) {
        this.#states.set(source.id, {
          ...(existing ?? emptyCounters()),
          id: source.id,
          target: source.target,
          source: sourceLabel(source),
          kind: source.kind,
          intervalSeconds: source.intervalSeconds,
          timeoutSeconds: source.timeoutSeconds
        })
      }
    }
  }

  /** Records one finished run of `source` that started at `startedSeconds` and took `durationSeconds`. */
  record (source: Source, result: CollectResult, startedSeconds: number, durationSeconds: number, trace?: { traceId: string, spanId: string }): void {
    const state = this.#states.get(source.id)
    if (state === undefined) {
      return // the source was removed by a reload while it ran
    }
    state.runs++
    state.lastDurationSeconds = durationSeconds
    state.lastRunSeconds = startedSeconds
    state.lastTrace = trace
    observe(state.durations, durationSeconds)
    if (result.failure === undefined) {
      state.up = true
      state.lastSuccessSeconds = startedSeconds
      state.lastFailure = undefined
    } else {
      state.up = false
      state.lastFailure = result.failure
      state.errors.set(result.failure.reason, (state.errors.get(result.failure.reason) ?? 0) + 1)
    }
    // A failed run that still measured something (a probe's `probe_success 0`) replaces the old
    // families; one that measured nothing leaves the last good ones to age out.
    if (result.failure === undefined || result.families.length > 0) {
      state.families = result.families
      state.familiesAtSeconds = startedSeconds
    }
  }

  /** Every tracked source's state, dropping families older than their staleness limit. */
  states (): SourceState[] {
    const now = this.#now()
    const all = [...this.#states.values()]
    for (const state of all) {
      if (state.familiesAtSeconds !== undefined && now - state.familiesAtSeconds > state.intervalSeconds * this.#staleAfterIntervals + state.timeoutSeconds) {
        state.families = []
        state.familiesAtSeconds = undefined
      }
    }
    return all
  }

  /** True once every tracked source has finished at least one run. */
  ready (): boolean {
    for (const state of this.#states.values()) {
      if (state.runs === 0) {
        return false
      }
    }
    return true
  }
}

/** The `source` label of a source: `stats`, `process`, or `http/<probe>`, `tcp/<probe>`, `postgres/<probe>`. */
export function sourceLabel (source: Pick<Source, 'id' | 'target'>): string {
  return source.id.slice(source.target.length + 1)
}

function emptyCounters (): Omit<SourceState, 'id' | 'target' | 'source' | 'kind' | 'intervalSeconds' | 'timeoutSeconds'> {
  return {
    runs: 0,
    up: undefined,
    lastDurationSeconds: undefined,
    lastRunSeconds: undefined,
    lastSuccessSeconds: undefined,
    lastFailure: undefined,
    errors: new Map(),
    durations: { buckets: SOURCE_DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 },
    families: [],
    familiesAtSeconds: undefined,
    lastTrace: undefined
  }
}

function observe (histogram: SourceState['durations'], value: number): void {
  histogram.sum += value
  histogram.count++
  for (let i = 0; i < SOURCE_DURATION_BUCKETS.length; i++) {
    if (value <= (SOURCE_DURATION_BUCKETS[i] as number)) {
      histogram.buckets[i] = (histogram.buckets[i] as number) + 1
    }
  }
}
