/**
 * Durations in the config file: `"500ms"`, `"15s"`, `"2m"`, `"1h"` or a plain number of seconds.
 * The parsed config always holds seconds as numbers.
 */

/** The string form of a duration: a non-negative decimal number and one unit. */
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/

const SECONDS_PER_UNIT: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600 }

/**
 * Converts a config duration to seconds.
 * @returns the duration in seconds, or `undefined` when `value` is not a duration or is not above zero.
 */
export function parseDuration (value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : undefined
  if (typeof value !== 'string') return undefined
  const match = DURATION_PATTERN.exec(value)
  if (match === null) return undefined
  const seconds = Number(match[1]) * (SECONDS_PER_UNIT[match[2] ?? ''] ?? Number.NaN)
  // Round away binary noise such as 0.1 * 3 so messages print what the user wrote.
  const rounded = Math.round(seconds * 1e9) / 1e9
  return rounded > 0 ? rounded : undefined
}

/** Renders seconds the way a user would write them: `500ms`, `15s`, `2.5s`. */
export function formatDuration (seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1e6) / 1e3}ms`
  return `${seconds}s`
}
