/**
 * HTTP/1.1 over a bare socket, for requests `fetch` will not send: absolute-form and CONNECT
 * request lines, unnormalised paths, and request bodies streamed for as long as the server reads.
 */
import { connect } from 'node:net'

/** What came back from {@link rawExchange}. */
export interface RawAnswer {
  /** Status code of the first response line; 0 when the server answered nothing parseable. */
  status: number
  /** Everything the server sent. */
  text: string
  /** Body bytes the client managed to write before the connection closed. */
  bytesWritten: number
}

/** Options of {@link rawExchange}. */
export interface RawExchangeOptions {
  /** Body bytes to stream after the head, honouring backpressure, until the server closes. */
  streamBytes?: number
  /** Frame the streamed body as chunked transfer coding. */
  chunked?: boolean
  /** Give up (destroy the socket) after this long, in ms; default 15 s. */
  timeoutMs?: number
}

/**
 * Sends `head` (request line and headers, ending in an empty line) to the server at `baseUrl`,
 * streams an optional body, and resolves when the connection closes.
 */
export async function rawExchange (baseUrl: string, head: string, options: RawExchangeOptions = {}): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl)
  const socket = connect(Number(port), hostname)
  const received: Buffer[] = []
  let bytesWritten = 0
  socket.on('data', (chunk: Buffer) => received.push(chunk))
  socket.on('error', () => {}) // EPIPE / ECONNRESET once the server hangs up: that is the point
  socket.setTimeout(options.timeoutMs ?? 15_000, () => socket.destroy())
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.write(head)
  const total = options.streamBytes ?? 0
  if (total > 0) {
    const chunk = Buffer.alloc(64 * 1024, 'x')
    const frame = options.chunked === true
      ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])
      : chunk
    const pump = (): void => {
      while (!socket.destroyed && bytesWritten < total) {
        bytesWritten += chunk.length
        if (!socket.write(frame)) {
          socket.once('drain', pump)
          return
        }
      }
      if (!socket.destroyed) socket.end(options.chunked === true ? '0\r\n\r\n' : '')
    }
    pump()
  }
  await closed
  const text = Buffer.concat(received).toString('latin1')
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1]
  return { status: status === undefined ? 0 : Number(status), text, bytesWritten }
}
