/** The description of a sync snapshot, read from an Object Store object's metadata (untrusted). */
import { describe, expect, it } from 'vitest';
import { decodeMeta, snapshotBucket } from '../../../src/sync/snapshots.js';

describe('sync snapshot metadata', () => {
  const good = { 'walden-pulled': '42', 'walden-stream-created': '2026-12-04T05:00:00Z', 'walden-seq': '17', 'walden-bytes': '4096' };

  it('reads what Walden writes', () => {
    expect(decodeMeta(good)).toEqual({ pulled: 42, streamCreated: '2026-12-04T05:00:00Z', seq: 17, bytes: 4096 });
  });

  it('refuses metadata that is missing, negative, fractional, unsafe or not numbers', () => {
    expect(decodeMeta(undefined)).toBeUndefined();
    expect(decodeMeta({})).toBeUndefined();
    for (const bad of ['-1', '1.5', 'x', '', '9007199254740993', 'Infinity']) {
      expect(decodeMeta({ ...good, 'walden-pulled': bad })).toBeUndefined();
      expect(decodeMeta({ ...good, 'walden-bytes': bad })).toBeUndefined();
    }
    const { 'walden-stream-created': _, ...noCreated } = good;
    expect(decodeMeta(noCreated)).toBeUndefined();
  });

  it('names the bucket after the stream unless told', () => {
    expect(snapshotBucket('todos', undefined)).toBe('walden-todos');
    expect(snapshotBucket('todos', 'mine')).toBe('mine');
  });
});
