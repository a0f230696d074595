/**
 * `npm run upstream`: the demo app's upstream service on its own.
 * Exit codes: 0 after SIGTERM/SIGINT, 2 on a bad environment.
 */
import { loadUpstreamConfig, type UpstreamServiceConfig } from './config.ts'
import { startUpstream } from './server.ts'

let config: UpstreamServiceConfig
try {
  config = loadUpstreamConfig(process.env)
} catch (error) {
  console.error((error as Error).message)
  process.exit(2)
}

const upstream = await startUpstream({ port: config.port, host: config.host, latencyMs: config.latencyMs })
console.log(JSON.stringify({ level: 'info', msg: 'upstream listening', url: upstream.url, latencyMs: config.latencyMs }))

const stop = (signal: string): void => {
  console.log(JSON.stringify({ level: 'info', msg: 'upstream stopping', signal }))
  // A hard deadline in case a socket refuses to close; unref'd so a clean close exits sooner.
  setTimeout(() => process.exit(1), 5000).unref()
  void upstream.close()
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
