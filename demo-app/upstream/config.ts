/** The upstream service's configuration: the only place its entry point reads the environment. */
import { z } from 'zod'

/** Validated settings of `npm run upstream`. */
export interface UpstreamServiceConfig {
  /** `PORT`, default 8081. */
  readonly port: number
  /** `HOST`, default 127.0.0.1 (the container sets 0.0.0.0). */
  readonly host: string
  /** `UPSTREAM_LATENCY_MS`, default 0: the delay before each answer. */
  readonly latencyMs: number
}

const wholeNumber = (max: number) => z.string().regex(/^\d+$/, `must be a whole number from 0 to ${max}`)
  .transform(Number).pipe(z.number().max(max, `must be at most ${max}`))

const SCHEMA = z.object({
  PORT: wholeNumber(65535).default(8081),
  HOST: z.string().min(1).default('127.0.0.1'),
  UPSTREAM_LATENCY_MS: wholeNumber(60_000).default(0)
})

/**
 * Reads `PORT`, `HOST` and `UPSTREAM_LATENCY_MS`. Empty strings count as unset.
 * @throws Error naming every bad variable and its value.
 */
export function loadUpstreamConfig (env: Readonly<Record<string, string | undefined>>): UpstreamServiceConfig {
  const picked = Object.fromEntries(['PORT', 'HOST', 'UPSTREAM_LATENCY_MS']
    .filter((name) => env[name] !== undefined && env[name] !== '')
    .map((name) => [name, env[name]]))
  const result = SCHEMA.safeParse(picked)
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = String(issue.path[0])
      return `${name} ${issue.message}, got ${JSON.stringify(picked[name])}`
    })
    throw new Error(`invalid upstream environment: ${problems.join('; ')}`)
  }
  return Object.freeze({ port: result.data.PORT, host: result.data.HOST, latencyMs: result.data.UPSTREAM_LATENCY_MS })
}
