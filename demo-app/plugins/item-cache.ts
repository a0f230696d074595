/**
 * The in-memory L1 cache for catalogue items: a read-through (cache-aside) LRU bounded by entries
 * and bytes with a TTL, single-flight loads, invalidation on writes and exact counters.
 */
import fp from 'fastify-plugin'
import { LRUCache } from 'lru-cache'
import type { StatsCache } from '../../contract/stats-v1.ts'
import type { CacheConfig } from '../config.ts'
import type { Item } from '../db/item-store.ts'

/**
 * What `GET /api/cache/stats` shows: the contract's counters plus the ones that explain them.
 * `misses` counts every lookup the cache could not answer, including those that joined another
 * lookup's load; `loads` counts the loads that reached the database; `coalesced` = `misses - loads`.
 */
export interface CacheDetails extends StatsCache {
  name: string
  enabled: boolean
  /** Misses that waited for a load already in flight instead of starting their own. */
  coalesced: number
  /** Loads started (one database read each). */
  loads: number
  /** Entries dropped because their TTL passed (not counted in `evictions`, which are capacity evictions). */
  expirations: number
  /** Entries dropped because a write invalidated them. */
  invalidations: number
  /** Time to live of an entry, in seconds. */
  ttlSeconds: number
  /** `hits / (hits + misses)`, or `null` before the first lookup. */
  hitRate: number | null
}

interface InFlight<V> {
  promise: Promise<V | undefined>
  /** Set when a write invalidated the key during the load: its result must not be cached. */
  stale: boolean
}

/**
 * A read-through cache. With `maxEntries: 0` it is off: `get` calls the loader every time and every
 * counter stays 0 (the baseline profile).
 */
export class ReadThroughCache<K extends string | number, V extends object> {
  readonly name: string
  readonly enabled: boolean
  readonly #config: CacheConfig
  readonly #lru: LRUCache<K, V> | undefined
  readonly #inFlight = new Map<K, InFlight<V>>()
  #hits = 0
  #misses = 0
  #sets = 0
  #evictions = 0
  #expirations = 0
  #invalidations = 0
  #coalesced = 0
  #loads = 0

  /**
   * @param name the cache's name in the stats document.
   * @param sizeOf an entry's size in bytes, for the byte bound.
   */
  constructor (name: string, config: CacheConfig, sizeOf: (value: V) => number) {
    this.name = name
    this.#config = config
    this.enabled = config.maxEntries > 0
    this.#lru = this.enabled
      ? new LRUCache<K, V>({
        max: config.maxEntries,
        maxSize: config.maxBytes,
        sizeCalculation: (value) => Math.max(1, sizeOf(value)),
        ttl: config.ttlMs,
        // Expired entries are dropped when touched or when stats are read, not by a timer per entry.
        ttlAutopurge: false,
        updateAgeOnGet: false,
        dispose: (_value, _key, reason) => {
          if (reason === 'evict') this.#evictions++
          else if (reason === 'expire') this.#expirations++
        }
      })
      : undefined
  }

  /**
   * Answers from the cache, or loads once per key however many callers miss at the same time.
   * `undefined` from the loader (not found) is passed on and not cached.
   * @throws whatever the loader throws, to every caller waiting on that load.
   */
  async get (key: K, load: (key: K) => Promise<V | undefined>): Promise<V | undefined> {
    if (this.#lru === undefined) return await load(key)
    const cached = this.#lru.get(key)
    if (cached !== undefined) {
      this.#hits++
      return cached
    }
    this.#misses++
    const running = this.#inFlight.get(key)
    if (running !== undefined) {
      this.#coalesced++
      return await running.promise
    }
    this.#loads++
    const lru = this.#lru
    const flight: InFlight<V> = { promise: Promise.resolve(undefined), stale: false }
    flight.promise = (async () => {
      try {
        const value = await load(key)
        if (value !== undefined && !flight.stale) {
          lru.set(key, value)
          if (lru.has(key)) this.#sets++
        }
        return value
      } finally {
        if (this.#inFlight.get(key) === flight) this.#inFlight.delete(key)
      }
    })()
    this.#inFlight.set(key, flight)
    return await flight.promise
  }

  /** Drops `key` after a write, and keeps a load already in flight from caching what it read before the write. */
  invalidate (key: K): void {
    if (this.#lru === undefined) return
    if (this.#lru.delete(key)) this.#invalidations++
    const running = this.#inFlight.get(key)
    if (running !== undefined) {
      running.stale = true
      this.#inFlight.delete(key)
    }
  }

  /** The cache in the `outrigger.stats/v1` shape. */
  stats (): StatsCache {
    // Dropping expired entries first keeps `entries` and `bytes` honest.
    this.#lru?.purgeStale()
    return {
      hits: this.#hits,
      misses: this.#misses,
      sets: this.#sets,
      evictions: this.#evictions,
      entries: this.#lru?.size ?? 0,
      bytes: this.#lru?.calculatedSize ?? 0,
      maxEntries: this.#lru === undefined ? 0 : this.#config.maxEntries,
      maxBytes: this.#lru === undefined ? 0 : this.#config.maxBytes
    }
  }

  /** Everything `GET /api/cache/stats` shows. */
  details (): CacheDetails {
    const stats = this.stats()
    const lookups = stats.hits + stats.misses
    return {
      name: this.name,
      enabled: this.enabled,
      ...stats,
      coalesced: this.#coalesced,
      loads: this.#loads,
      expirations: this.#expirations,
      invalidations: this.#invalidations,
      ttlSeconds: this.enabled ? this.#config.ttlMs / 1000 : 0,
      hitRate: lookups === 0 ? null : stats.hits / lookups
    }
  }

  /** Empties the cache (counters keep their values: they are cumulative). */
  clear (): void {
    this.#lru?.clear()
    this.#inFlight.clear()
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Catalogue items by id; see `plugins/item-cache.ts`. */
    itemCache: ReadThroughCache<number, Item>
  }
}

/** Decorates `app.itemCache` (named `items` in the stats) and empties it in `onClose`. */
export const itemCachePlugin = fp<CacheConfig>(async (app, config) => {
  const cache = new ReadThroughCache<number, Item>('items', config, (item) => Buffer.byteLength(JSON.stringify(item)))
  app.decorate('itemCache', cache)
  app.addHook('onClose', async () => { cache.clear() })
}, { name: 'item-cache', fastify: '5.x' })
