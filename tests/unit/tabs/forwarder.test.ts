/** The follower's forwarder: resend on a new leader, tags on commits, merging behind the window. */
import { describe, expect, it } from 'vitest';
import { Forwarder } from '../../../src/tabs/forwarder.js';
import { LEDGER_WINDOW } from '../../../src/engine/ledger.js';
import type { RequestMessage } from '../../../src/tabs/messages.js';

function setup() {
  const sent: RequestMessage[] = [];
  const forwarder = new Forwarder('me', (m) => sent.push(m), LEDGER_WINDOW);
  const answer = (m: RequestMessage, value: unknown) => forwarder.receive({ t: 'res', to: 'me', id: m.id, epoch: 1, ok: true, value });
  return { sent, forwarder, answer };
}
const put = (key: string) => [{ type: 'del' as const, key }];

describe('Forwarder', () => {
  it('holds calls until a leader is ready, then sends them in order', async () => {
    const { sent, forwarder, answer } = setup();
    const got = forwarder.call<string>('get', ['a']);
    expect(sent).toEqual([]);
    forwarder.setLeader('L1', 1);
    expect(sent.map((m) => [m.to, m.method, m.args])).toEqual([['L1', 'get', ['a']]]);
    answer(sent[0]!, 'value');
    expect(await got).toBe('value');
  });

  it('sends every unanswered call again to a new leader, commits with the same tag', async () => {
    const { sent, forwarder, answer } = setup();
    forwarder.setLeader('L1', 1);
    const seqs = forwarder.commit([put('a')]);
    const first = sent[0]!;
    expect(first.tag).toEqual({ client: 'me', n: 1 });
    forwarder.setLeader('L2', 2);
    expect(sent[1]).toMatchObject({ to: 'L2', id: first.id, tag: { client: 'me', n: 1 } });
    answer(sent[1]!, [7]);
    answer(first, [99]); // a late answer from the old leader is ignored
    expect(await seqs).toEqual([7]);
    forwarder.setLeader('L2', 3); // the same worker leading a new epoch counts as new
    expect(sent).toHaveLength(2); // nothing left to resend
  });

  it('keeps at most LEDGER_WINDOW commits in flight and merges the ones behind them', async () => {
    const { sent, forwarder, answer } = setup();
    forwarder.setLeader('L1', 1);
    const results = Array.from({ length: LEDGER_WINDOW + 3 }, (_, i) => forwarder.commit([put(`k${i}`)]));
    expect(sent).toHaveLength(LEDGER_WINDOW);
    answer(sent[0]!, [1]);
    await Promise.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(sent).toHaveLength(LEDGER_WINDOW + 1);
    const merged = sent[LEDGER_WINDOW]!;
    expect((merged.args[0] as unknown[]).length).toBe(3);
    for (const [i, m] of sent.slice(1, LEDGER_WINDOW).entries()) answer(m, [i + 2]);
    answer(merged, [20, 21, 22]);
    expect(await Promise.all(results)).toEqual([[1], ...Array.from({ length: LEDGER_WINDOW - 1 }, (_, i) => [i + 2]), [20], [21], [22]]);
  });

  it('rejects with the leader’s error, and everything on failAll', async () => {
    const { sent, forwarder } = setup();
    forwarder.setLeader('L1', 1);
    const bad = forwarder.call('get', ['x']);
    forwarder.receive({ t: 'res', to: 'me', id: sent[0]!.id, epoch: 1, ok: false, error: { code: 'STORE_CORRUPTION', name: 'StoreError', message: 'bad' } });
    await expect(bad).rejects.toMatchObject({ name: 'StoreError', code: 'STORE_CORRUPTION' });
    const pending = forwarder.commit([put('a')]);
    const { StoreError } = await import('../../../src/errors.js');
    forwarder.failAll(new StoreError('STORE_CLOSED', 'closed'));
    await expect(pending).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });

  it('drain hands back sent calls with their tags and queued commits without', () => {
    const { forwarder } = setup();
    const promises = [forwarder.commit([put('a')]), forwarder.call('info', [])];
    promises.forEach((p) => p.catch(() => {}));
    const calls = forwarder.drain();
    expect(calls.map((c) => [c.method, c.tag])).toEqual([
      ['commit', { client: 'me', n: 1 }],
      ['info', undefined],
    ]);
    expect(forwarder.inFlight).toBe(0);
  });
});
