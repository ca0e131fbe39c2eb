/**
 * The request ledger: which forwarded commit requests a store has applied, kept inside the store
 * itself so that a write retried after a failover is applied exactly once.
 *
 * Each tab's worker (a "client") numbers its forwarded commit groups 1, 2, 3, … The leader
 * appends a hidden entry `\u0000walden:req:<client>` to the last record of every tagged group,
 * holding the last {@link LEDGER_WINDOW} request numbers with their seqs. The entry lives in
 * the index like any key, so snapshots and the log carry it; users never see it (the reserved
 * prefix is filtered from scans, feeds and counts, and refused as a key). It expires after
 * {@link LEDGER_TTL_MS}, so a tab that never comes back leaves nothing behind.
 */
import { decodeUtf8, encodeUtf8 } from '../format/bytes.js';
import { RESERVED_PREFIX } from '../keys.js';

/** Request numbers remembered per client: a follower keeps at most this many commits in flight. */
export const LEDGER_WINDOW = 16;
/** A client's ledger entry is dropped this long after its last write. */
export const LEDGER_TTL_MS = 24 * 60 * 60 * 1000;

/** One remembered request: its number, its first seq and how many records it wrote. */
export type LedgerRow = readonly [n: number, first: number, count: number];

/** The ledger key of `client`. */
export function ledgerKey(client: string): string {
  return `${RESERVED_PREFIX}req:${client}`;
}

/** Decode a ledger value; a malformed one counts as empty (it only ever loses deduplication). */
export function readLedger(bytes: Uint8Array | undefined): readonly LedgerRow[] {
  if (!bytes) return [];
  try {
    const rows = JSON.parse(decodeUtf8(bytes)) as unknown;
    return Array.isArray(rows) ? (rows.filter((r) => Array.isArray(r) && r.length === 3 && r.every(Number.isSafeInteger)) as LedgerRow[]) : [];
  } catch {
    return [];
  }
}

/** The seqs request `n` got, if the ledger `rows` remember it. */
export function appliedSeqs(rows: readonly LedgerRow[], n: number): number[] | undefined {
  const row = rows.find(([m]) => m === n);
  return row && Array.from({ length: row[2] }, (_, i) => row[1] + i);
}

/** The ledger rows after request `n` wrote `count` records from seq `first` (the last {@link LEDGER_WINDOW}). */
export function recordRequest(rows: readonly LedgerRow[], n: number, first: number, count: number): readonly LedgerRow[] {
  const kept = rows.filter(([m]) => m !== n);
  kept.push([n, first, count]);
  return kept.length > LEDGER_WINDOW ? kept.slice(-LEDGER_WINDOW) : kept;
}

/** The value that stores `rows`. */
export function encodeLedger(rows: readonly LedgerRow[]): Uint8Array {
  return encodeUtf8(JSON.stringify(rows));
}
