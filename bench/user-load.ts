/**
 * Open-loop load from simulated users: each user holds one keep-alive connection (an undici
 * Client) and sends a request every `intervalMs`, at a phase of its own so the users are spread
 * over the interval. Latency is measured from when a request was due, not when it was sent, so a
 * server that falls behind is charged for the wait (no coordinated omission). The generator's own
 * event-loop delay is measured too: when it is high, the figures describe the generator.
 *
 * autocannon's rate-limited mode is not used here: on this kind of machine its per-connection
 * timers alone put p99 near one interval at a thousand connections, even against a server that
 * answers at once.
 */
import { createHistogram, monitorEventLoopDelay } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Client } from 'undici'

/** The sampling timer of the event-loop delay monitor, in ms; its readings include this period. */
const LOOP_DELAY_RESOLUTION_MS = 10

/** Options of {@link runUsers}. */
export interface UserLoadOptions {
  origin: string
  users: number
  /** Time between one user's requests, in ms. */
  intervalMs: number
  /** Time before the window during which users connect and send unrecorded requests, in ms. */
  rampMs: number
  /** The measured window, in ms. */
  windowMs: number
  /** Path of each request. */
  next: () => string
}

/** What simulated users saw in the window. */
export interface UserLoadResult {
  /** 2xx answers per second in the window. */
  requestsPerSecond: number
  ok: number
  /** Non-2xx answers, connection errors and timeouts. */
  errors: number
  latencyP50Ms: number
  latencyP99Ms: number
  /** p99 of the generator's own event-loop delay: how late it could have been in sending. */
  generatorDelayP99Ms: number
}

/** Runs `users` users for `rampMs + windowMs` and resolves with what the window measured. */
export async function runUsers (options: UserLoadOptions): Promise<UserLoadResult> {
  const latencyMicros = createHistogram({ lowest: 1, highest: 120_000_000, figures: 3 })
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS })
  let ok = 0
  let errors = 0
  const start = performance.now()
  const windowStart = start + options.rampMs
  const end = windowStart + options.windowMs

  const user = async (index: number): Promise<void> => {
    const client = new Client(options.origin, { pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000, connectTimeout: 10_000 })
    try {
      let due = start + (index / options.users) * options.intervalMs
      while (due < end) {
        // Timers have whole-millisecond resolution and may fire early: wait until it is really due.
        for (let wait = due - performance.now(); wait > 0; wait = due - performance.now()) await sleep(Math.ceil(wait))
        const recorded = due >= windowStart
        try {
          const { statusCode, body } = await client.request({ method: 'GET', path: options.next() })
          await body.dump()
          if (recorded) {
            if (statusCode >= 200 && statusCode < 300) {
              ok++
              latencyMicros.record(Math.max(1, Math.round((performance.now() - due) * 1000)))
            } else {
              errors++
            }
          }
        } catch {
          if (recorded) errors++
        }
        due += options.intervalMs
      }
    } finally {
      await client.close().catch(() => {})
    }
  }

  loopDelay.enable()
  await Promise.all(Array.from({ length: options.users }, (_, i) => user(i)))
  loopDelay.disable()
  const count = latencyMicros.count
  return {
    requestsPerSecond: ok / (options.windowMs / 1000),
    ok,
    errors,
    latencyP50Ms: count === 0 ? 0 : latencyMicros.percentile(50) / 1000,
    latencyP99Ms: count === 0 ? 0 : latencyMicros.percentile(99) / 1000,
    generatorDelayP99Ms: loopDelay.count === 0 ? 0 : Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_DELAY_RESOLUTION_MS)
  }
}
