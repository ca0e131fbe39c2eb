/** The page-side feed: a reset whose frozen view is lost (its leader was replaced) starts again from the cursor. */
import { describe, expect, it } from 'vitest';
import type { Remote } from 'comlink';
import { feed, publicFeed } from '../../../src/client/feed.js';
import { StoreError } from '../../../src/errors.js';
import type { ChangePage, EngineApi, ResetPage } from '../../../src/protocol.js';

describe('feed', () => {
  it('starts a reset again when its view died with the old leader', async () => {
    let resets = 0;
    const remote = {
      async readChanges(since: number): Promise<ChangePage<unknown>> {
        if (since < 5) return { kind: 'reset', seq: 5, view: ++resets };
        return { kind: 'changes', changes: [{ seq: 6, ops: [{ type: 'del', key: 'a' }] }], next: 6 };
      },
      async readResetView(view: number, after: string | undefined): Promise<ResetPage<unknown>> {
        if (view === 1 && after !== undefined) throw new StoreError('STORE_VIEW_EXPIRED', 'the frozen view expired or was released; start again');
        if (after === undefined) return { entries: [['a', 1]], done: false };
        return { entries: [['b', 2]], done: true };
      },
    } as unknown as Remote<EngineApi>;
    const seen: string[] = [];
    for await (const change of publicFeed(feed(remote, 0, {}, () => false))) {
      seen.push(change.type === 'reset' ? `reset@${change.seq}` : `${change.seq}:${change.ops.map((op) => `${op.type} ${op.key}`).join()}`);
      if (change.seq === 6) break;
    }
    expect(seen).toEqual(['reset@5', '5:put a', 'reset@5', '5:put a', '5:put b', '6:del a']);
  });

  it('still fails on other errors', async () => {
    const remote = {
      readChanges: async (): Promise<ChangePage<unknown>> => ({ kind: 'reset', seq: 1, view: 1 }),
      readResetView: async (): Promise<ResetPage<unknown>> => {
        throw new StoreError('STORE_CORRUPTION', 'bad');
      },
    } as unknown as Remote<EngineApi>;
    const items = publicFeed(feed(remote, 0, {}, () => false));
    await items.next();
    await expect(items.next()).rejects.toMatchObject({ code: 'STORE_CORRUPTION' });
  });
});
