/**
 * The request ledger: which forwarded commit requests a store has applied, kept inside the store
 * itself so that a write retried after a failover is applied exactly once.
 *
 * Each tab's worker (a "client") numbers its forwarded commit groups 1, 2, 3, … The leader
 * appends a hidden entry `\u0000walden:req:<client>` to the last record of every tagged group,
 * holding the last {@link LEDGER_WINDOW} request numbers with their seqs (binary: {@link encodeLedger}).
 * The entry lives in the index like any key, so snapshots and the log carry it; users never see it (the reserved
 * prefix is filtered from scans, feeds and counts, and refused as a key). It expires after
 * {@link LEDGER_TTL_MS}, so a tab that never comes back leaves nothing behind.
 */
import { decodeUtf8, readVarint, writeVarint } from '../format/bytes.js';
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

/** First byte of a ledger value in the binary layout; the first layout was UTF-8 JSON (`[`). */
const BINARY_LEDGER = 0x01;

/** Decode a ledger value; a malformed one counts as empty (it only ever loses deduplication). */
export function readLedger(bytes: Uint8Array | undefined): readonly LedgerRow[] {
  if (!bytes || bytes.byteLength === 0) return [];
  if (bytes[0] === BINARY_LEDGER) return readBinaryLedger(bytes);
  try {
    const rows = JSON.parse(decodeUtf8(bytes)) as unknown;
    return Array.isArray(rows) ? (rows.filter((r) => Array.isArray(r) && r.length === 3 && r.every((x) => Number.isSafeInteger(x) && x >= 0)) as LedgerRow[]) : [];
  } catch {
    return [];
  }
}

/**
 * Rows from the binary layout. Per row: a varint `count × 4 + (n went down ? 2 : 0) + (firstSeq
 * went down ? 1 : 0)`, then how far n and firstSeq moved from the row before (from 0 for the
 * first row) as varints: about 3 bytes a row, where JSON took about 14.
 */
function readBinaryLedger(bytes: Uint8Array): readonly LedgerRow[] {
  const rows: LedgerRow[] = [];
  const reader = { at: 1 };
  let n = 0;
  let first = 0;
  while (reader.at < bytes.byteLength) {
    const head = readVarint(bytes, reader);
    const dn = readVarint(bytes, reader);
    const dfirst = readVarint(bytes, reader);
    if (head === undefined || dn === undefined || dfirst === undefined) return [];
    n += head % 4 >= 2 ? -dn : dn;
    first += head % 2 === 1 ? -dfirst : dfirst;
    const count = Math.floor(head / 4);
    if (![n, first, count].every((x) => Number.isSafeInteger(x) && x >= 0)) return [];
    rows.push([n, first, count]);
  }
  return rows;
}

/** The value that stores `rows`, in the binary layout (see `readBinaryLedger`). */
export function encodeLedger(rows: readonly LedgerRow[]): Uint8Array {
  const out = new Uint8Array(1 + rows.length * 3 * 8);
  out[0] = BINARY_LEDGER;
  let at = 1;
  let n = 0;
  let first = 0;
  for (const row of rows) {
    at = writeVarint(out, at, row[2] * 4 + (row[0] < n ? 2 : 0) + (row[1] < first ? 1 : 0));
    at = writeVarint(out, at, Math.abs(row[0] - n));
    at = writeVarint(out, at, Math.abs(row[1] - first));
    [n, first] = row;
  }
  return out.slice(0, at);
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
