/**
 * Many targets for the agent at the cost of one small process: a node:http server whose
 * `GET /stats?routes=N` answers an `outrigger.stats/v1` document with N routes (16 series each
 * once the agent converts it; the default, 6 routes, is about the demo app's size) and whose
 * `GET /health` answers `{"status":"ok"}`. Counters move on every read, as a live app's do.
 * Listens on 127.0.0.1:`PORT` (0 = any; the URL is printed); stops on SIGTERM.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { farmStatsDocument, MAX_ROUTES } from './farm-stats-document.ts'

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://farm')
  let body: string
  if (url.pathname === '/health') {
    body = '{"status":"ok"}'
  } else if (url.pathname === '/stats') {
    const routes = Math.min(MAX_ROUTES, Math.max(1, Number(url.searchParams.get('routes') ?? 6) || 6))
    body = JSON.stringify(farmStatsDocument(routes))
  } else {
    res.writeHead(404).end()
    return
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
})
server.keepAliveTimeout = 65_000

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'target farm listening', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }))
})
process.once('SIGTERM', () => {
  server.close()
  server.closeAllConnections()
})
