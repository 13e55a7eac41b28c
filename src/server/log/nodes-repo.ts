/**
 * @module
 * SQL for `log_nodes`: the perfect subtrees of each site's Merkle tree (migrations/002-log.sql).
 * Hashes travel as hex text in parameters (`decode(…, 'hex')`): both drivers pass text arrays the same way.
 */
import type { Queryable } from '../db/db.ts';
import type { StoredNode } from './frontier.ts';
import type { Hash, NodeId } from './merkle.ts';

/** Key of a node in the maps this repo returns. */
export const nodeKey = (id: NodeId) => `${id.level}:${id.index}`;

interface RawNode {
  level: number;
  idx: number | string;
  hash: string;
}

const toNode = (r: RawNode): StoredNode => ({
  level: Number(r.level),
  index: Number(r.idx),
  hash: Buffer.from(r.hash, 'hex'),
});

/** Stores nodes (new ones only: a node is written once and never changes). */
export async function insertNodes(
  tx: Queryable,
  siteId: string,
  nodes: readonly StoredNode[],
): Promise<void> {
  if (nodes.length === 0) return;
  await tx.query(
    `INSERT INTO log_nodes (site_id, level, idx, hash)
     SELECT $1, n.level, n.idx, decode(n.hash, 'hex')
     FROM unnest($2::smallint[], $3::bigint[], $4::text[]) AS n(level, idx, hash)`,
    [
      siteId,
      nodes.map((n) => n.level),
      nodes.map((n) => n.index),
      nodes.map((n) => Buffer.from(n.hash).toString('hex')),
    ],
  );
}

/** The stored hashes of these nodes, by `nodeKey`; missing nodes are absent from the map. */
export async function findNodes(
  q: Queryable,
  siteId: string,
  ids: readonly NodeId[],
): Promise<Map<string, Hash>> {
  if (ids.length === 0) return new Map();
  const res = await q.query<RawNode>(
    `SELECT n.level, n.idx, encode(n.hash, 'hex') AS hash
     FROM unnest($2::smallint[], $3::bigint[]) AS w(level, idx)
     JOIN log_nodes n ON n.site_id = $1 AND n.level = w.level AND n.idx = w.idx`,
    [siteId, ids.map((i) => i.level), ids.map((i) => i.index)],
  );
  return new Map(res.rows.map((r) => [`${r.level}:${Number(r.idx)}`, toNode(r).hash]));
}

/**
 * Every stored node whose last leaf lies in `[start, end)`, i.e. the nodes completed while appending those
 * leaves, ordered by last leaf then level (the order a frontier makes them). For `verify`, page by page.
 */
export async function nodesCompletedIn(
  q: Queryable,
  siteId: string,
  start: number,
  end: number,
): Promise<StoredNode[]> {
  const levels: number[] = [];
  const lows: number[] = [];
  const highs: number[] = [];
  // Node (l, i) ends at leaf (i+1)·2^l − 1: it lies in [start, end) when i+1 is in [⌈(start+1)/2^l⌉, ⌊end/2^l⌋].
  for (let level = 0, width = 1; width <= end; level++, width *= 2) {
    const low = Math.ceil((start + 1) / width) - 1;
    const high = Math.floor(end / width) - 1;
    if (high < low) continue;
    levels.push(level);
    lows.push(low);
    highs.push(high);
  }
  if (levels.length === 0) return [];
  const res = await q.query<RawNode>(
    `SELECT n.level, n.idx, encode(n.hash, 'hex') AS hash
     FROM unnest($2::smallint[], $3::bigint[], $4::bigint[]) AS w(level, low, high)
     JOIN log_nodes n ON n.site_id = $1 AND n.level = w.level AND n.idx BETWEEN w.low AND w.high`,
    [siteId, levels, lows, highs],
  );
  const lastLeaf = (n: StoredNode) => (n.index + 1) * 2 ** n.level - 1;
  return res.rows.map(toNode).sort((a, b) => lastLeaf(a) - lastLeaf(b) || a.level - b.level);
}

/** Number of leaves stored for a site (one past the highest level-0 node). */
export async function storedLeafCount(q: Queryable, siteId: string): Promise<number> {
  const res = await q.query<{ n: number | string | null }>(
    'SELECT max(idx) + 1 AS n FROM log_nodes WHERE site_id = $1 AND level = 0',
    [siteId],
  );
  return Number(res.rows[0]?.n ?? 0);
}
