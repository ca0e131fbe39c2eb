/** The sync message codec: what a device publishes reads back the same; anything else is refused, never thrown. */
import { describe, expect, it } from 'vitest';
import { decodeIncoming, encodeOutgoing, Reassembler, type Incoming } from '../../../src/sync/message.js';
import { encodeValue } from '../../../src/format/value.js';
import { encodeRecords } from '../../../src/format/wal.js';
import { PendingWrites } from '../../../src/sync/pending.js';
import type { EncodedOp } from '../../../src/protocol.js';

const PREFIX = 'walden.todos';
const ops: EncodedOp[] = [
  { type: 'put', key: 'a', value: encodeValue({ title: 'milk', done: false }) },
  { type: 'del', key: 'b' },
  { type: 'put', key: 'c', value: encodeValue(new Map([[1, 2]])), expiresAt: 1_900_000_000_000 },
];

function readAll(device: string, messages: ReturnType<typeof encodeOutgoing>): Incoming | undefined {
  const reassembler = new Reassembler();
  let result: Incoming | undefined;
  messages.forEach((m, i) => {
    const incoming = decodeIncoming(`${PREFIX}.${device}`, PREFIX, m.part ? `${m.part.index}/${m.part.count}` : undefined, m.body);
    result = incoming.kind === 'part' ? reassembler.add(incoming, i + 1) : incoming;
  });
  return result;
}

describe('sync messages', () => {
  it('a record reads back with its seq, ops and device', () => {
    const messages = encodeOutgoing('dev1', 42, ops, 1024 * 1024);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.msgId).toBe('dev1-42');
    const got = readAll('dev1', messages);
    expect(got).toEqual({ kind: 'record', record: { device: 'dev1', seq: 42, ops } });
  });

  it('a record larger than the server takes goes in parts, and is whole again after the last', () => {
    const big: EncodedOp[] = [{ type: 'put', key: 'photo', value: encodeValue(new Uint8Array(300_000).fill(7)) }];
    const messages = encodeOutgoing('dev1', 7, big, 100_000);
    expect(messages.length).toBe(4);
    expect(messages.every((m) => m.body.byteLength <= 100_000)).toBe(true);
    expect(new Set(messages.map((m) => m.msgId)).size).toBe(4);
    const got = readAll('dev1', messages);
    expect(got?.kind).toBe('record');
    expect((got as { record: { ops: EncodedOp[] } }).record.ops).toEqual(big);
  });

  it('parts out of order are refused; a first part starts the record again', () => {
    const big: EncodedOp[] = [{ type: 'put', key: 'k', value: encodeValue('x'.repeat(5000)) }];
    const parts = encodeOutgoing('d', 1, big, 2048).map((m) => decodeIncoming(`${PREFIX}.d`, PREFIX, `${m.part!.index}/${m.part!.count}`, m.body) as Extract<Incoming, { kind: 'part' }>);
    const r = new Reassembler();
    expect(r.add(parts[0]!, 1)).toBeUndefined();
    expect(r.oldestOpen()).toBe(1);
    expect(r.add(parts[2]!, 2)?.kind).toBe('invalid');
    // The device restarted the record: its first part again, then the rest.
    let last: Incoming | undefined;
    parts.forEach((p, i) => (last = r.add(p, 10 + i)));
    expect(last?.kind).toBe('record');
    expect(r.oldestOpen()).toBeUndefined();
  });

  it('refuses, without throwing, what a device could not have sent', () => {
    const good = encodeOutgoing('dev1', 1, ops, 1 << 20)[0]!.body;
    const flipped = good.slice();
    flipped[flipped.length - 3]! ^= 0xff;
    const reserved = encodeRecords([{ seq: 1, ops: [{ type: 'put', key: '\u0000walden:req:x', value: encodeValue(1) }] }]).bytes;
    const badValue = encodeRecords([{ seq: 1, ops: [{ type: 'put', key: 'k', value: Uint8Array.of(9, 9, 9) }] }]).bytes;
    const noOps = encodeRecords([{ seq: 1, ops: [] }]).bytes;
    const cases: [string, string | undefined, Uint8Array][] = [
      [`${PREFIX}.dev1`, undefined, flipped],
      [`${PREFIX}.dev1`, undefined, good.subarray(0, good.length - 1)],
      [`${PREFIX}.dev1`, undefined, new Uint8Array([...good, 0])],
      [`${PREFIX}.dev1`, undefined, reserved],
      [`${PREFIX}.dev1`, undefined, badValue],
      [`${PREFIX}.dev1`, undefined, noOps],
      [`${PREFIX}.dev1`, undefined, new Uint8Array(0)],
      [`${PREFIX}.dev1.extra`, undefined, good],
      [`other.dev1`, undefined, good],
      [`${PREFIX}.dev1`, '3/2', good],
      [`${PREFIX}.dev1`, 'x', good],
    ];
    for (const [subject, part, body] of cases) expect(decodeIncoming(subject, PREFIX, part, body).kind, `${subject} ${part}`).toBe('invalid');
  });
});

describe('pending writes', () => {
  it('a key stays pending until the stream brings back the last local write to it', () => {
    const pending = new PendingWrites();
    pending.note(3, ['a', 'b']);
    pending.note(5, ['a']);
    pending.confirm(3);
    expect(pending.has('b')).toBe(false);
    expect(pending.has('a')).toBe(true);
    pending.confirm(5);
    expect(pending.has('a')).toBe(false);
    expect(pending.size).toBe(0);
  });
});
