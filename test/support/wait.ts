/**
 * Polling with a deadline: the one way tests wait for something that has no event to wait on.
 * Never a fixed sleep: the condition is checked every `intervalMs` and the wait ends as soon as it holds.
 */
import { setTimeout as delay } from 'node:timers/promises'

export interface WaitOptions {
  /** Give up after this long; default 30 s. */
  timeoutMs?: number
  /** Time between checks; default 50 ms. */
  intervalMs?: number
  /** What is awaited, for the error message. */
  what: string
  /** Extra context for the error message (e.g. a child's output). */
  details?: () => string
}

/** Resolves with the first truthy value `check` returns; throws naming `what` at the deadline. */
export async function waitUntil<T> (check: () => T | Promise<T>, options: WaitOptions): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  let lastError: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined && value !== null && value !== false) {
        return value as NonNullable<T>
      }
    } catch (error) {
      if (error instanceof Error && /exited with/.test(error.message)) throw error
      lastError = error
    }
    if (Date.now() > deadline) {
      const cause = lastError === undefined ? '' : ` (last error: ${(lastError as Error).message})`
      const details = options.details?.() ?? ''
      throw new Error(`timed out waiting for ${options.what}${cause}${details === '' ? '' : `\n${details}`}`)
    }
    await delay(options.intervalMs ?? 50)
  }
}
