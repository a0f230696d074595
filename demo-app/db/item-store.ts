/**
 * The catalogue's SQL: every statement on the `items` table, returning items in API shape.
 * Client mistakes that only the database can see (a taken SKU) become 4xx {@link DemoAppError}s.
 */
import type { DbPool } from '../plugins/db-pool.ts'
import { DemoAppError } from '../errors.ts'

/** A catalogue item as the API returns it. */
export interface Item {
  id: number
  sku: string
  name: string
  category: string
  priceCents: number
  stock: number
  /** ISO 8601. */
  createdAt: string
  /** ISO 8601. */
  updatedAt: string
}

/** Fields a client may set on create (all but `stock` required) or update (any, at least one). */
export interface ItemInput {
  sku: string
  name: string
  category: string
  priceCents: number
  stock?: number
}

/** Filters and page of `GET /api/items`. */
export interface ItemQuery {
  category?: string
  /** Case-insensitive substring of the name. */
  q?: string
  minPriceCents?: number
  maxPriceCents?: number
  inStock?: boolean
  limit: number
  offset: number
}

/** One page of items. */
export interface ItemPage {
  items: Item[]
  /** Items matching the filters, over all pages. */
  total: number
  limit: number
  offset: number
}

interface ItemRow {
  id: number
  sku: string
  name: string
  category: string
  price_cents: number
  stock: number
  created_at: Date
  updated_at: Date
}

const COLUMNS = 'id, sku, name, category, price_cents, stock, created_at, updated_at'

/** API field → column, for the fields a client may write. */
const WRITABLE: Record<keyof ItemInput, string> = {
  sku: 'sku',
  name: 'name',
  category: 'category',
  priceCents: 'price_cents',
  stock: 'stock'
}

function toItem (row: ItemRow): Item {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    category: row.category,
    priceCents: row.price_cents,
    stock: row.stock,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString()
  }
}

function skuConflict (error: unknown, sku: string | undefined): unknown {
  if ((error as { code?: string } | null)?.code === '23505') {
    return new DemoAppError('DEMO_ERR_SKU_CONFLICT', `sku ${JSON.stringify(sku)} is already used by another item`, { cause: error, field: 'sku' })
  }
  return error
}

/** Escapes LIKE wildcards so `q` matches literally. */
function likePattern (text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

/** The catalogue's statements over one pool. */
export class ItemStore {
  readonly #db: DbPool

  constructor (db: DbPool) {
    this.#db = db
  }

  /** The item with this id, or `undefined`. @throws DemoAppError (503) when the database is unreachable. */
  async findById (id: number): Promise<Item | undefined> {
    const { rows } = await this.#db.query<ItemRow>(`SELECT ${COLUMNS} FROM items WHERE id = $1`, [id])
    return rows[0] === undefined ? undefined : toItem(rows[0])
  }

  /** One page of items matching the filters, by ascending id. @throws DemoAppError (503). */
  async list (query: ItemQuery): Promise<ItemPage> {
    const where: string[] = []
    const values: unknown[] = []
    const add = (condition: (placeholder: string) => string, value: unknown): void => {
      values.push(value)
      where.push(condition(`$${values.length}`))
    }
    if (query.category !== undefined) add((p) => `category = ${p}`, query.category)
    if (query.q !== undefined) add((p) => `name ILIKE ${p}`, likePattern(query.q))
    if (query.minPriceCents !== undefined) add((p) => `price_cents >= ${p}`, query.minPriceCents)
    if (query.maxPriceCents !== undefined) add((p) => `price_cents <= ${p}`, query.maxPriceCents)
    if (query.inStock !== undefined) where.push(query.inStock ? 'stock > 0' : 'stock = 0')
    const filter = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`
    values.push(query.limit, query.offset)
    const { rows } = await this.#db.query<ItemRow & { total: string }>(
      `SELECT ${COLUMNS}, count(*) OVER () AS total FROM items ${filter}
       ORDER BY id LIMIT $${values.length - 1} OFFSET $${values.length}`, values)
    let total = Number(rows[0]?.total ?? 0)
    if (rows.length === 0 && query.offset > 0) {
      // A page past the end has no row to carry the window count.
      const counted = await this.#db.query<{ total: string }>(`SELECT count(*) AS total FROM items ${filter}`, values.slice(0, -2))
      total = Number(counted.rows[0]?.total ?? 0)
    }
    return { items: rows.map(toItem), total, limit: query.limit, offset: query.offset }
  }

  /** Inserts an item. @throws DemoAppError 409 `DEMO_ERR_SKU_CONFLICT` when the SKU is taken; 503 when unreachable. */
  async create (input: ItemInput): Promise<Item> {
    try {
      const { rows } = await this.#db.query<ItemRow>(
        `INSERT INTO items (sku, name, category, price_cents, stock) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
        [input.sku, input.name, input.category, input.priceCents, input.stock ?? 0])
      return toItem(rows[0] as ItemRow)
    } catch (error) {
      throw skuConflict(error, input.sku)
    }
  }

  /**
   * Changes the given fields of an item.
   * @returns the updated item, or `undefined` when no item has this id.
   * @throws DemoAppError 409 when the new SKU is taken; 503 when unreachable.
   */
  async update (id: number, changes: Partial<ItemInput>): Promise<Item | undefined> {
    const sets: string[] = []
    const values: unknown[] = [id]
    for (const [field, column] of Object.entries(WRITABLE) as Array<[keyof ItemInput, string]>) {
      if (changes[field] === undefined) continue
      values.push(changes[field])
      sets.push(`${column} = $${values.length}`)
    }
    sets.push('updated_at = now()')
    try {
      const { rows } = await this.#db.query<ItemRow>(`UPDATE items SET ${sets.join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`, values)
      return rows[0] === undefined ? undefined : toItem(rows[0])
    } catch (error) {
      throw skuConflict(error, changes.sku)
    }
  }
}
