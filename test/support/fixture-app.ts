/**
 * A stand-in application for agent tests: answers `/health` with `{"status":"ok"}` and `/stats`
 * with a given `outrigger.stats/v1` document, and records every request it gets.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FixtureApp {
  server: Server
  port: number
  /** Every request received, in order. */
  requests: Array<{ url: string, headers: IncomingHttpHeaders }>
  /** Stops listening and drops open connections; safe to call twice. */
  close (): Promise<void>
}

/** Listens on a free loopback port; the caller closes it. */
export async function startFixtureApp (statsDocument: unknown): Promise<FixtureApp> {
  const requests: FixtureApp['requests'] = []
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers })
    if (req.url?.startsWith('/health') === true) {
      res.setHeader('content-type', 'application/json')
      res.end('{"status":"ok"}')
    } else if (req.url === '/stats') {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify(statsDocument))
    } else {
      res.statusCode = 404
      res.end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    server,
    port: (server.address() as AddressInfo).port,
    requests,
    close: async () => {
      if (!server.listening) return
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
