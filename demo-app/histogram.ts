import type { StatsHistogram } from '../contract/stats-v1.ts'

/**
 * Latency bucket boundaries in seconds, shared by request, pool and client histograms so that every
 * SLO threshold (50 ms, 100 ms, 250 ms, 500 ms, 1 s) is a bucket boundary.
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
])

/**
 * A cumulative histogram in seconds, in the shape of the `outrigger.stats/v1` contract.
 * Observations are O(buckets); the snapshot is cumulative with the `+Inf` bucket implied by `count`.
 */
export class Histogram {
  readonly #bounds: readonly number[]
  /** Per-bucket (non-cumulative) counts; the last slot holds observations above every bound. */
  readonly #counts: number[]
  #sum = 0
  #count = 0

  /** @param bounds ascending upper bounds in seconds; defaults to {@link LATENCY_BUCKETS_SECONDS}. */
  constructor (bounds: readonly number[] = LATENCY_BUCKETS_SECONDS) {
    for (let i = 1; i < bounds.length; i++) {
      if (!((bounds[i] ?? 0) > (bounds[i - 1] ?? 0))) {
        throw new RangeError(`histogram bounds must be strictly ascending, got ${JSON.stringify(bounds)}`)
      }
    }
    this.#bounds = bounds
    this.#counts = new Array<number>(bounds.length + 1).fill(0)
  }

  /** Records one observation, in seconds. Negative or non-finite values are clamped to 0. */
  observe (seconds: number): void {
    const value = Number.isFinite(seconds) && seconds > 0 ? seconds : 0
    let i = 0
    while (i < this.#bounds.length && value > (this.#bounds[i] ?? Infinity)) i++
    this.#counts[i] = (this.#counts[i] ?? 0) + 1
    this.#sum += value
    this.#count++
  }

  /** Number of observations so far. */
  get count (): number {
    return this.#count
  }

  /** Sum of observations so far, in seconds. */
  get sum (): number {
    return this.#sum
  }

  /** A cumulative copy, safe to serialise while observations go on. */
  snapshot (): StatsHistogram {
    let running = 0
    const buckets = this.#bounds.map((le, i) => {
      running += this.#counts[i] ?? 0
      return { le, count: running }
    })
    return { buckets, sum: this.#sum, count: this.#count }
  }
}

/** Seconds elapsed since `start`, a `process.hrtime.bigint()` reading. */
export function secondsSince (start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9
}
