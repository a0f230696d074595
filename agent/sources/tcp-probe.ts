/**
 * The TCP probe: opens a fresh connection, optionally sends a string and waits for the answer to
 * match a regular expression (blackbox_exporter's `query_response`), then closes the connection.
 */
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import type { CollectResult, MetricFamily, Source, SourceFailure } from '../types.ts'
import { OutriggerError } from '../errors.ts'
import { errorText, networkFailureReason } from '../net/network-error.ts'
import { dnsLookupFamily, outcomeFamilies, probeLabels, regexFamily } from '../net/probe-families.ts'
import { currentRunSpan } from '../tracing/run-span.ts'
import { ATTR_NETWORK_TRANSPORT, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from '../tracing/span-attributes.ts'

/** Default most bytes read while waiting for `expect` to match. */
export const DEFAULT_TCP_READ_LIMIT_BYTES = 64 * 1024

/** A TCP probe as the configuration declares it. */
export interface TcpProbeOptions {
  /** Name of the target; the `target` label. */
  target: string
  /** Name of the probe within the target; the `probe` label. */
  name: string
  host: string
  port: number
  /** Sent verbatim once connected (include `\r\n` yourself when the protocol wants a line). */
  send?: string
  /**
   * Regular expression the bytes received (decoded as UTF-8) must match before the deadline.
   * Without it the probe succeeds as soon as the connection is open and `send` is written.
   */
  expect?: string
  /** Most bytes read while waiting for `expect`. Default {@link DEFAULT_TCP_READ_LIMIT_BYTES}. */
  readLimitBytes?: number
  /** Run period, seconds. */
  intervalSeconds: number
  /** Deadline of one run, seconds. */
  timeoutSeconds: number
}

/**
 * Connects to one host and port per run; see {@link TcpProbeOptions}.
 * @throws OutriggerError `OUTRIGGER_ERR_CONFIG_INVALID` when `expect` is not a valid regular expression.
 */
export class TcpProbe implements Source {
  readonly id: string
  readonly target: string
  readonly kind = 'tcp' as const
  readonly intervalSeconds: number
  readonly timeoutSeconds: number
  readonly #options: TcpProbeOptions
  readonly #expect: RegExp | undefined

  constructor (options: TcpProbeOptions) {
    this.#options = options
    this.id = `${options.target}/tcp/${options.name}`
    this.target = options.target
    this.intervalSeconds = options.intervalSeconds
    this.timeoutSeconds = options.timeoutSeconds
    if (options.expect !== undefined) {
      try {
        this.#expect = new RegExp(options.expect)
      } catch (error) {
        throw new OutriggerError('OUTRIGGER_ERR_CONFIG_INVALID', `tcp probe ${this.id}: expect ${JSON.stringify(options.expect)} is not a regular expression`, { cause: error })
      }
    }
  }

  /** Runs the probe once. Never rejects: a failed connection or mismatch is `probe_success 0` plus the failure. */
  async collect (signal: AbortSignal): Promise<CollectResult> {
    const started = performance.now()
    currentRunSpan()?.setAttributes({ [ATTR_SERVER_ADDRESS]: this.#options.host, [ATTR_SERVER_PORT]: this.#options.port, [ATTR_NETWORK_TRANSPORT]: 'tcp' })
    const outcome = await this.#exchange(signal)
    const durationSeconds = (performance.now() - started) / 1000
    const labels = probeLabels(this.#options.target, this.#options.name)
    const families: MetricFamily[] = [
      ...outcomeFamilies(labels, outcome.failure === undefined, durationSeconds),
      dnsLookupFamily(labels, outcome.resolveSeconds)
    ]
    if (this.#expect !== undefined) families.push(regexFamily(labels, outcome.regexFailed))
    return outcome.failure === undefined ? { families } : { families, failure: outcome.failure }
  }

  #exchange (signal: AbortSignal): Promise<{ failure?: SourceFailure, resolveSeconds: number, regexFailed: boolean }> {
    const { host, port, send } = this.#options
    const expect = this.#expect
    const limit = this.#options.readLimitBytes ?? DEFAULT_TCP_READ_LIMIT_BYTES
    const where = `${host}:${port}`
    if (signal.aborted) return Promise.resolve({ failure: { reason: 'timeout', message: `${where}: deadline reached before connecting` }, resolveSeconds: 0, regexFailed: false })
    return new Promise((resolve) => {
      const started = performance.now()
      let resolvedAt: number | undefined
      let connected = false
      let settled = false
      const received: Buffer[] = []
      let receivedBytes = 0
      const socket = net.connect({ host, port })

      const settle = (failure?: SourceFailure, regexFailed = false): void => {
        if (settled) return
        settled = true
        signal.removeEventListener('abort', onAbort)
        socket.destroy()
        const resolveSeconds = resolvedAt === undefined ? 0 : (resolvedAt - started) / 1000
        resolve(failure === undefined ? { resolveSeconds, regexFailed } : { failure, resolveSeconds, regexFailed })
      }
      const onAbort = (): void => {
        const stage = !connected ? 'while connecting' : expect === undefined ? 'while sending' : `waiting for ${String(expect)}`
        settle({ reason: 'timeout', message: `${where}: deadline reached ${stage}` })
      }
      signal.addEventListener('abort', onAbort, { once: true })

      socket.once('lookup', () => { resolvedAt = performance.now() })
      socket.on('error', (error) => {
        settle({ reason: networkFailureReason(error), message: `${where}: ${errorText(error)}` })
      })
      socket.once('connect', () => {
        connected = true
        const afterSend = (): void => {
          if (expect === undefined) settle()
        }
        if (send === undefined) afterSend()
        else socket.write(send, (error) => { if (error == null) afterSend() })
      })
      if (expect === undefined) return
      socket.on('data', (chunk: Buffer) => {
        const room = limit - receivedBytes
        received.push(room < chunk.length ? chunk.subarray(0, room) : chunk)
        receivedBytes += Math.min(room, chunk.length)
        expect.lastIndex = 0
        if (expect.test(Buffer.concat(received, receivedBytes).toString('utf8'))) {
          settle()
        } else if (receivedBytes >= limit) {
          settle({ reason: 'body_mismatch', message: `${where}: first ${limit} bytes received do not match ${String(expect)}` }, true)
        }
      })
      socket.once('end', () => {
        settle({ reason: 'body_mismatch', message: `${where}: connection closed after ${receivedBytes} bytes not matching ${String(expect)}` }, true)
      })
    })
  }
}
