/**
 * A scraper of its own for the render step: `node bench/scraper.ts URL WARMUP SAMPLES` sends
 * WARMUP + SAMPLES sequential `GET URL` (text format), each timed from the request to the last
 * byte of the body, and prints `{ durationsMs, bodyBytes, series }` as JSON for the SAMPLES ones.
 * It runs in a fresh, small process, like Prometheus, so the benchmark's own heap and garbage
 * collections (after minutes of load generation) are not charged to the agent.
 */
import { request } from 'node:http'

const [url = '', warmupArg = '0', samplesArg = '1'] = process.argv.slice(2)
const warmup = Number(warmupArg)
const samples = Number(samplesArg)

function scrape (): Promise<{ ms: number, body: Buffer }> {
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const req = request(url, { headers: { accept: 'text/plain;version=0.0.4' }, signal: AbortSignal.timeout(30_000) }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => { chunks.push(chunk) })
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${url} answered ${res.statusCode ?? '?'}`))
        else resolve({ ms: performance.now() - start, body: Buffer.concat(chunks) })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

const durationsMs: number[] = []
let body: Buffer = Buffer.alloc(0)
for (let i = 0; i < warmup + samples; i++) {
  const result = await scrape()
  if (i >= warmup) durationsMs.push(result.ms)
  body = result.body
}
const series = body.toString('utf8').split('\n').filter((line) => line !== '' && !line.startsWith('#')).length
process.stdout.write(`${JSON.stringify({ durationsMs, bodyBytes: body.length, series })}\n`)
