/**
 * The agent's HTTP server: `/metrics`, `/healthz`, `/readyz`, `/api/targets`, `/` (status page)
 * and `POST /-/reload`. Plain node:http(s) rather than a framework: six fixed routes do not need a
 * router, and the agent's memory footprint is part of what it promises.
 *
 * Optional bearer or basic auth is compared in constant time; paths in `openPaths` skip it (by
 * default the health endpoints, so orchestrators can probe without the secret).
 *
 * Limits: a header block over 16 KiB gets 431 (Node's parser); no endpoint reads a request body,
 * so any body is refused with 413 and the connection closed. No handler sees the query string or
 * the request's headers beyond `Accept` and `Authorization`: nothing a client sends can point the
 * agent at another address.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'

/** Credentials a request must present, already read from files or env. */
export type ServerAuth =
  | { kind: 'bearer', token: string }
  | { kind: 'basic', username: string, password: string }

export interface HttpServerOptions {
  host: string
  port: number
  auth?: ServerAuth
  /** Paths served without credentials; default `/healthz` and `/readyz`. */
  openPaths?: readonly string[]
  /** PEM key and certificate; serves HTTPS when present. */
  tls?: { key: string, cert: string }
  handlers: {
    metrics (accept: string | undefined): Promise<{ contentType: string, body: string }>
    ready (): boolean
    targets (): unknown
    statusPage (): string
    /** Reloads the configuration; resolves true when the new one was applied. */
    reload (): Promise<{ ok: boolean, message: string }>
  }
  /** Told about handler failures (which are bugs); never about requests. */
  onError?: (error: unknown) => void
}

/** Largest request header block accepted, in bytes. */
const MAX_HEADER_BYTES = 16 * 1024

/** Serves the agent's endpoints until `close()`. */
export class AgentHttpServer {
  readonly #options: HttpServerOptions
  #auth: ServerAuth | undefined
  #server: Server | undefined

  constructor (options: HttpServerOptions) {
    this.#options = options
    this.#auth = options.auth
  }

  /** Replaces the credentials requests must present (a reload may change them). */
  setAuth (auth: ServerAuth | undefined): void {
    this.#auth = auth
  }

  /** Listens; resolves with the base URL (with the real port when 0 was asked). */
  async start (): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.#handle(req, res).catch((error: unknown) => {
        this.#options.onError?.(error)
        if (!res.headersSent) {
          send(res, 500, 'text/plain; charset=utf-8', 'internal error\n')
        } else {
          res.destroy()
        }
      })
    }
    const common = { maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 30_000, headersTimeout: 10_000 }
    const server = this.#options.tls === undefined
      ? createHttpServer(common, handler)
      : createHttpsServer({ ...common, key: this.#options.tls.key, cert: this.#options.tls.cert }, handler)
    server.keepAliveTimeout = 65_000
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.#options.port, this.#options.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const address = server.address() as AddressInfo
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    return `${this.#options.tls === undefined ? 'http' : 'https'}://${host}:${address.port}`
  }

  /** Stops listening and closes idle connections; safe to call twice. */
  async close (): Promise<void> {
    const server = this.#server
    this.#server = undefined
    if (server === undefined) {
      return
    }
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeIdleConnections()
    })
  }

  async #handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (hasBody(req)) {
      // No endpoint reads a body. Answering and closing stops the client at once; left unread,
      // Node would drain whatever it streams until the request timeout.
      res.setHeader('connection', 'close')
      send(res, 413, 'text/plain; charset=utf-8', 'request bodies are not accepted\n')
      return
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const { handlers } = this.#options
    const openPaths = this.#options.openPaths ?? ['/healthz', '/readyz']
    if (!openPaths.includes(path) && !authorized(req, this.#auth)) {
      res.setHeader('www-authenticate', this.#auth?.kind === 'basic' ? 'Basic realm="outrigger"' : 'Bearer')
      send(res, 401, 'text/plain; charset=utf-8', 'unauthorized: send the configured credentials\n')
      return
    }
    const method = req.method ?? 'GET'
    if (path === '/-/reload') {
      if (method !== 'POST' && method !== 'PUT') {
        res.setHeader('allow', 'POST, PUT')
        send(res, 405, 'text/plain; charset=utf-8', 'use POST to reload the configuration\n')
        return
      }
      const result = await handlers.reload()
      send(res, result.ok ? 200 : 500, 'text/plain; charset=utf-8', `${result.message}\n`)
      return
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n')
      return
    }
    switch (path) {
      case '/metrics': {
        const { contentType, body } = await handlers.metrics(req.headers.accept)
        send(res, 200, contentType, body)
        return
      }
      case '/healthz':
        send(res, 200, 'text/plain; charset=utf-8', 'ok\n')
        return
      case '/readyz': {
        const ready = handlers.ready()
        send(res, ready ? 200 : 503, 'text/plain; charset=utf-8', ready ? 'ready\n' : 'not ready: the first collection is still running\n')
        return
      }
      case '/api/targets':
        send(res, 200, 'application/json; charset=utf-8', JSON.stringify(handlers.targets()))
        return
      case '/':
        send(res, 200, 'text/html; charset=utf-8', handlers.statusPage())
        return
      default:
        send(res, 404, 'text/plain; charset=utf-8', `not found: ${path.slice(0, 100)}; try /metrics, /api/targets or /\n`)
    }
  }
}

function send (res: ServerResponse, status: number, contentType: string, body: string): void {
  res.statusCode = status
  res.setHeader('content-type', contentType)
  res.setHeader('content-length', Buffer.byteLength(body))
  res.end(res.req.method === 'HEAD' ? undefined : body)
}

/** Whether the request carries a body: a non-zero Content-Length, or any Transfer-Encoding. */
function hasBody (req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/** Constant-time credential check; no auth configured means every request passes. */
function authorized (req: IncomingMessage, auth: ServerAuth | undefined): boolean {
  if (auth === undefined) {
    return true
  }
  const header = req.headers.authorization ?? ''
  // The scheme name is case-insensitive (RFC 9110, section 11.1).
  if (auth.kind === 'bearer') {
    return /^bearer /i.test(header) && safeEqual(header.slice(7), auth.token)
  }
  if (!/^basic /i.test(header)) {
    return false
  }
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  // Both halves are always compared, so timing does not tell which one was wrong.
  const userOk = safeEqual(colon === -1 ? '' : decoded.slice(0, colon), auth.username)
  const passwordOk = safeEqual(colon === -1 ? '' : decoded.slice(colon + 1), auth.password)
  return userOk && passwordOk
}

/** Compares digests so neither the content nor the length of the secret leaks through timing. */
function safeEqual (given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}
