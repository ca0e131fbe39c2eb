/**
 * The hot path (`src/hotpath.ts`) over a real MessageChannel: answers, errors with their codes,
 * transfers, and order next to Comlink on the same port (a read sees the writes sent before it).
 */
import { expose, wrap } from 'comlink';
import { describe, expect, it } from 'vitest';
import { installErrorTransfer, StoreError } from '../../src/errors.js';
import { HotPath, serveHotPath, transferred } from '../../src/hotpath.js';

function pair() {
  installErrorTransfer();
  const { port1, port2 } = new MessageChannel();
  const log: string[] = [];
  const state = new Map<string, unknown>();
  const api = {
    async get(key: string) {
      log.push(`get ${key}`);
      if (key === 'bad') throw new StoreError('STORE_CORRUPTION', 'the value of "bad" does not decode');
      if (key === 'type') throw new TypeError('key must be a string');
      if (key === 'big') return transferred(new Uint8Array(8192).fill(7), []);
      return state.get(key);
    },
    async commit(writes: { key: string; value: unknown }[][]) {
      for (const ops of writes) for (const op of ops) state.set(op.key, op.value);
      log.push(`commit ${writes.flat().map((op) => op.key).join(',')}`);
      return writes.map((_, i) => i + 1);
    },
    async scan() {
      log.push('scan');
      return [...state.keys()];
    },
  };
  serveHotPath(port1, api);
  expose(api, port1);
  const hot = new HotPath(port2);
  port2.start();
  const received = { count: 0 };
  port2.addEventListener('message', () => received.count++);
  return { hot, remote: wrap<typeof api>(port2), log, received, close: () => (hot.close(), port1.close(), port2.close()) };
}

describe('the hot path', () => {
  it('answers get and commit with their values', async () => {
    const { hot, close } = pair();
    expect(await hot.call('commit', [[[{ key: 'a', value: { n: 1, at: new Date(5) } }]]])).toEqual([1]);
    expect(await hot.call('get', ['a'])).toEqual({ n: 1, at: new Date(5) });
    expect(await hot.call('get', ['missing'])).toBeUndefined();
    expect(await hot.call('get', ['big'])).toEqual(new Uint8Array(8192).fill(7));
    close();
  });

  it('keeps a StoreError its code and a TypeError its class', async () => {
    const { hot, close } = pair();
    await expect(hot.call('get', ['bad'])).rejects.toMatchObject({ name: 'StoreError', code: 'STORE_CORRUPTION' });
    await expect(hot.call('get', ['type'])).rejects.toBeInstanceOf(TypeError);
    close();
  });

  it('refuses what structured clone cannot copy, and sends nothing', async () => {
    const { hot, log, close } = pair();
    await expect(hot.call('commit', [[[{ key: 'f', value: () => 1 }]]])).rejects.toMatchObject({ name: 'DataCloneError' });
    expect(await hot.call('get', ['f'])).toBeUndefined();
    expect(log).toEqual(['get f']);
    close();
  });

  it('reaches the worker in the order the calls were made, with Comlink calls in between, one answer each', async () => {
    const { hot, remote, log, received, close } = pair();
    const answers = await Promise.all([hot.call('commit', [[[{ key: 'x', value: 1 }]]]), remote.scan(), hot.call('get', ['x']), hot.call('commit', [[[{ key: 'y', value: 2 }]]]), remote.scan()]);
    expect(log).toEqual(['commit x', 'scan', 'get x', 'commit y', 'scan']);
    expect(answers).toEqual([[1], ['x'], 1, [1], ['x', 'y']]);
    // One answer per call: Comlink answered no hot message.
    expect(received.count).toBe(5);
    close();
  });
});
