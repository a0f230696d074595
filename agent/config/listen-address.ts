/**
 * `HOST:PORT` addresses: the agent's `server.listen` (and `--listen` / `OUTRIGGER_LISTEN`) and
 * tcp probe targets. IPv6 hosts go in brackets: `[::1]:9465`.
 */
import { OutriggerError } from '../errors.ts'

/** A parsed `HOST:PORT`; `host` has no brackets. */
export interface HostPort {
  host: string
  port: number
}

/**
 * Splits `HOST:PORT`.
 * @returns the parts, or a message saying what is wrong with `text` (naming it).
 */
export function parseHostPort (text: string): HostPort | { error: string } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text)
  const host = match?.[1] ?? match?.[2]
  const port = Number(match?.[3])
  if (match === null || host === undefined) {
    return { error: `\`${text}\` is not HOST:PORT (for example 127.0.0.1:9465, or [::1]:9465 for IPv6)` }
  }
  if (!Number.isInteger(port) || port > 65535) return { error: `port ${match[3]} in \`${text}\` is not between 0 and 65535` }
  return { host, port }
}

/**
 * Like {@link parseHostPort}, for values already validated (`server.listen`, `--listen`).
 * @throws {OutriggerError} `OUTRIGGER_ERR_CONFIG_INVALID` naming `text` when it is not `HOST:PORT`.
 */
export function parseListenAddress (text: string): HostPort {
  const parsed = parseHostPort(text)
  if ('error' in parsed) throw new OutriggerError('OUTRIGGER_ERR_CONFIG_INVALID', parsed.error)
  return parsed
}
