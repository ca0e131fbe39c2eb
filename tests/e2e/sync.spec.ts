/**
 * Sync across devices over NATS JetStream, with a real `nats-server` (JetStream, WebSocket) on
 * loopback and two persistent browser profiles as two devices.
 */
import type { Page } from '@playwright/test';
import { Profile } from './support/browser.js';
import { expect, storeName, test } from './support/fixtures.js';
import { NatsDeployment, USERS } from './support/nats.js';
import { CuttableProxy } from './support/proxy.js';
import { installWaldenTesting } from '../../src/testing/index.js';

test.describe.configure({ timeout: 240_000 });

/** A device: its own profile, a page with the harness store open. */
class Device {
  readonly profile = new Profile();
  page!: Page;

  async open(name: string, options: { testing?: boolean } = {}): Promise<this> {
    // Firefox delays a new WebSocket to a server that refused the last ones (up to 60 s, growing
    // with each failure: docs/sync.md "Offline"); these tests kill the server on purpose and
    // expect the devices back within their timeout, so that delay is switched off here.
    await this.profile.launch({ firefoxUserPrefs: { 'network.websocket.delay-failed-reconnects': false } });
    // walden/testing's hooks (a stalled commit) for the crash specs.
    if (options.testing) await installWaldenTesting(this.profile.context!);
    this.page = await this.profile.page();
    await this.page.evaluate((name) => window.harness.open(name), name);
    return this;
  }

  /** Terminate the store's worker (a crash of the worker that syncs), then open the store again in a new one. */
  async crashWorkerAndReopen(name: string): Promise<void> {
    await this.page.evaluate(async (name) => {
      window.harness.worker!.terminate();
      await window.harness.open(name);
    }, name);
  }

  sync<T>(fn: (sync: Awaited<ReturnType<typeof window.harness.sync>>, arg: any) => Promise<T> | T, arg?: unknown): Promise<T> {
    return this.page.evaluate(async ([source, arg]) => {
      const sync = await window.harness.sync();
      // eslint-disable-next-line no-new-func
      return new Function('sync', 'arg', `return (${source})(sync, arg)`)(sync, arg);
    }, [fn.toString(), arg] as const) as Promise<T>;
  }

  async close(): Promise<void> {
    await this.profile.close();
    this.profile.remove();
  }
}

let server: NatsDeployment;
test.beforeEach(async () => {
  server = await NatsDeployment.start(1);
});
test.afterEach(async () => {
  await server.stop();
});

test('two devices write interleaved: both converge to identical scans, and each watch() shows every record once', async () => {
  const name = storeName('sync-two');
  const [a, b] = await Promise.all([new Device().open(name), new Device().open(name)]);
  try {
    const options = { servers: server.servers, stream: 'todos', ...USERS.alice };
    for (const d of [a, b]) {
      await d.sync((s) => s.watch(0));
      expect(await d.sync((s, o) => s.start(o), options)).toMatch(/connecting|online/);
    }
    await Promise.all([a.sync((s) => s.waitFor('online')), b.sync((s) => s.waitFor('online'))]);
    // Interleaved: own keys, and 20 keys both write.
    await Promise.all([a.sync((s) => s.write('a/', 100, 'A', 4)), b.sync((s) => s.write('b/', 100, 'B', 4)), a.sync((s) => s.write('both/', 60, 'A', 2, 20)), b.sync((s) => s.write('both/', 60, 'B', 3, 20))]);
    for (const d of [a, b]) await d.sync((s) => s.flush());
    for (const d of [a, b]) await d.sync((s) => s.pulled());
    const scanA = await a.sync((s) => s.scan());
    const scanB = await b.sync((s) => s.scan());
    expect(scanA.length).toBe(220);
    expect(scanB).toEqual(scanA);
    for (const d of [a, b]) {
      const { seen, resets } = await d.sync((s) => s.seen());
      expect(resets).toBe(0);
      // Every record of the other device once: a/ and b/ keys each appear exactly once in the feed.
      const once = seen.filter(([, key]) => key.startsWith('a/') || key.startsWith('b/')).map(([, key]) => key);
      expect(once.length).toBe(200);
      expect(new Set(once).size).toBe(200);
    }
    const info = await a.sync((s) => s.info());
    expect(info.pendingRecords).toBe(0);
    expect(info.state).toBe('online');
    expect(info.applied).toBeGreaterThanOrEqual(100);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

/** Wait until both devices have everything, then answer both full scans. */
async function converged(a: Device, b: Device): Promise<[string, string][]> {
  const slow = setTimeout(async () => {
    const infos = await Promise.all([a, b].map((d) => d.sync((s) => s.info()).catch((e: Error) => e.message)));
    console.error(`sync not converged after 60 s: ${JSON.stringify(infos)}`);
  }, 60_000);
  for (const d of [a, b]) await d.sync((s) => s.flush());
  for (const d of [a, b]) await d.sync((s) => s.pulled());
  clearTimeout(slow);
  const scanA = await a.sync((s) => s.scan());
  expect(await b.sync((s) => s.scan())).toEqual(scanA);
  return scanA;
}

/** Keys of `prefix` in what a device's watch() saw, each counted: every record once means every count is 1. */
async function feedCounts(d: Device, prefix: string): Promise<Map<string, number>> {
  const { seen, resets } = await d.sync((s) => s.seen());
  expect(resets).toBe(0);
  const counts = new Map<string, number>();
  for (const [, key] of seen) if (key.startsWith(prefix)) counts.set(key, (counts.get(key) ?? 0) + 1);
  return counts;
}

test('a device offline while both write catches up on reconnect; per key the write later in the stream wins on both', async () => {
  const name = storeName('sync-offline');
  const proxy = await CuttableProxy.start(server.nodes[0]!.wsPort);
  const [a, b] = await Promise.all([new Device().open(name), new Device().open(name)]);
  try {
    await a.sync((s, o) => s.start(o), { servers: server.servers, stream: 'notes', ...USERS.alice });
    await b.sync((s, o) => s.start(o), { servers: [proxy.wsUrl], stream: 'notes', ...USERS.alice });
    await a.sync((s) => s.write('k', 10, 'A0'));
    await converged(a, b);
    proxy.cut();
    expect(await b.sync((s) => s.waitFor('offline'))).toBe('offline');
    // Both write the same keys while B is cut off; B also writes its own.
    await a.sync((s) => s.write('k', 10, 'A1'));
    await b.sync((s) => s.write('k', 10, 'B1'));
    await b.sync((s) => s.write('b/', 30, 'B1'));
    expect((await b.sync((s) => s.info())).pendingRecords).toBe(40);
    await a.sync((s) => s.flush());
    proxy.restore();
    expect(await b.sync((s) => s.waitFor('online', 30_000))).toBe('online');
    const scan = await converged(a, b);
    // B's writes reached the stream after A's: B's values win, on both devices.
    expect(scan.filter(([key]) => /^k\d$/.test(key)).map(([, v]) => JSON.parse(v).who)).toEqual(Array(10).fill('B1'));
    expect(scan.filter(([key]) => key.startsWith('b/')).length).toBe(30);
    expect(await b.sync((s) => s.states())).toEqual(expect.arrayContaining(['online', 'offline']));
    const info = await b.sync((s) => s.info());
    expect(info.pendingRecords).toBe(0);
    expect(info.unconfirmedKeys).toBe(0);
  } finally {
    await Promise.all([a.close(), b.close()]);
    await proxy.close();
  }
});

test('kill -9 of the server mid-push and mid-pull, restarted on its store: nothing is lost or doubled on either device', async () => {
  const name = storeName('sync-kill');
  const [a, b] = await Promise.all([new Device().open(name), new Device().open(name)]);
  try {
    for (const d of [a, b]) {
      await d.sync((s) => s.watch(0));
      await d.sync((s, o) => s.start(o), { servers: server.servers, stream: 'kill', ...USERS.alice });
    }
    const writing = Promise.all([a.sync((s) => s.write('a/', 400, 'A', 4)), b.sync((s) => s.write('b/', 300, 'B', 3))]);
    await new Promise((r) => setTimeout(r, 300));
    await server.nodes[0]!.kill9();
    await new Promise((r) => setTimeout(r, 1000));
    await server.nodes[0]!.start();
    await writing;
    // And once more while the devices are reconnecting and catching up.
    await new Promise((r) => setTimeout(r, 400));
    await server.nodes[0]!.kill9();
    await server.nodes[0]!.start();
    const scan = await converged(a, b);
    expect(scan.length).toBe(700);
    for (const [d, prefix] of [[b, 'a/'], [a, 'b/']] as const) {
      const counts = await feedCounts(d, prefix);
      expect(counts.size).toBe(prefix === 'a/' ? 400 : 300);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
    }
    // The stream holds each record once.
    const info = await a.page.evaluate(async (o) => (await window.harness.sync()).nats.streamInfo(o.servers, o.user, o.pass, 'kill'), { servers: server.servers, ...USERS.alice });
    expect(info.messages).toBe(700);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

for (const at of ['before-write', 'after-write'] as const) {
  test(`a crash of the syncing worker after a pull, ${at === 'before-write' ? 'before its commit' : 'after its write, before the acknowledgement'}: nothing lost or doubled`, async () => {
    const name = storeName(`sync-crash-${at}`);
    const [a, b] = await Promise.all([new Device().open(name), new Device().open(name, { testing: true })]);
    try {
      const options = { servers: server.servers, stream: 'crash', ...USERS.alice };
      await a.sync((s, o) => s.start(o), options);
      await b.sync((s, o) => s.start(o), options);
      await a.sync((s) => s.write('a/', 20, 'A'));
      await converged(a, b);
      // B's next commit is the one that applies what it pulls next: stall it there, then kill the worker.
      await b.page.evaluate((at) => window.harness.stall(10_000, at), at);
      await a.sync((s) => s.write('a/x', 50, 'A', 5));
      await a.sync((s) => s.flush());
      await new Promise((r) => setTimeout(r, 1500));
      await b.crashWorkerAndReopen(name);
      await b.sync((s) => s.watch(0));
      await b.sync((s, o) => s.start(o), options);
      await converged(a, b);
      const counts = await feedCounts(b, 'a/');
      expect(counts.size).toBe(70);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
}

test('wrong credentials fail fast with STORE_SYNC_AUTH; two accounts never see each other\'s stream', async () => {
  const name = storeName('sync-auth');
  const [a, c] = await Promise.all([new Device().open(name), new Device().open(name)]);
  try {
    const started = Date.now();
    const refused = await a.sync((s, o) => s.startError(o), { servers: server.servers, stream: 'shared', user: 'alice', pass: 'wrong' });
    expect(refused).toMatch(/^StoreError STORE_SYNC_AUTH /);
    expect(refused).not.toContain('wrong');
    expect(Date.now() - started).toBeLessThan(10_000);
    // Same stream name, other account.
    await a.sync((s, o) => s.start(o), { servers: server.servers, stream: 'shared', ...USERS.alice });
    await c.sync((s, o) => s.start(o), { servers: server.servers, stream: 'shared', ...USERS.bob });
    await a.sync((s) => s.write('secret/', 10, 'alice'));
    await a.sync((s) => s.flush());
    await c.sync((s) => s.pulled());
    expect(await c.sync((s) => s.scan())).toEqual([]);
    // Bad options are a TypeError, before anything connects.
    expect(await a.sync((s) => s.startError({ servers: 'http://x', stream: 'shared' } as never))).toMatch(/^TypeError/);
    expect(await a.sync((s) => s.startError({ servers: 'ws://127.0.0.1:1', stream: 'a.b' } as never))).toMatch(/^TypeError/);
  } finally {
    await Promise.all([a.close(), c.close()]);
  }
});

test('a value larger than the server\'s max_payload goes in parts and arrives whole', async () => {
  const name = storeName('sync-big');
  const [a, b] = await Promise.all([new Device().open(name), new Device().open(name)]);
  try {
    const options = { servers: server.servers, stream: 'big', ...USERS.alice };
    for (const d of [a, b]) await d.sync((s, o) => s.start(o), options);
    await a.page.evaluate(async () => {
      await window.harness.store!.put('before', 1);
      await window.harness.store!.put('photo', new Uint8Array(2_500_000).map((_, i) => i % 251));
      await window.harness.store!.put('after', 2);
    });
    await converged(a, b);
    const got = await b.page.evaluate(async () => {
      const photo = (await window.harness.store!.get('photo')) as Uint8Array;
      return { length: photo.length, intact: photo.every((v, i) => v === i % 251), after: await window.harness.store!.get('after') };
    });
    expect(got).toEqual({ length: 2_500_000, intact: true, after: 2 });
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('a forged or malformed message stops sync with STORE_SYNC_INVALID_MESSAGE and changes nothing locally', async () => {
  const name = storeName('sync-forged');
  const [a, b] = await Promise.all([new Device().open(name), new Device().open(name)]);
  try {
    const options = { servers: server.servers, stream: 'forged', ...USERS.alice };
    await a.sync((s, o) => s.start(o), options);
    await b.sync((s, o) => s.start(o), options);
    await a.sync((s) => s.write('a/', 5, 'A'));
    const before = await converged(a, b);
    // A record with a broken checksum, as another device of the account could publish.
    await b.page.evaluate(async (o) => (await window.harness.sync()).nats.publish(o.servers, o.user, o.pass, 'walden.forged.mallory', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]), options);
    expect(await b.sync((s) => s.waitFor('closed'))).toBe('closed');
    const info = await b.sync((s) => s.info());
    expect(info.lastError?.code).toBe('STORE_SYNC_INVALID_MESSAGE');
    expect(info.lastError?.message).toContain('walden.forged.mallory');
    expect(await b.sync((s) => s.scan())).toEqual(before);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

/** Purge the stream below `keep` (stream seq), behind Walden's back. */
async function purgeBelow(d: Device, options: { servers: string[]; stream: string; user: string; pass: string }, keep: number): Promise<void> {
  await d.page.evaluate(async ([o, keep]) => (await window.harness.sync()).nats.purge(o.servers, o.user, o.pass, o.stream, keep), [options, keep] as const);
}

test('a third device bootstraps from the Object Store snapshot plus the stream after it, with the history before it purged', async () => {
  const name = storeName('sync-bootstrap');
  const [a, b] = await Promise.all([new Device().open(name), new Device().open(name)]);
  const c = new Device();
  try {
    const options = { servers: server.servers, stream: 'boot', ...USERS.alice };
    for (const d of [a, b]) await d.sync((s, o) => s.start(o), options);
    await Promise.all([a.sync((s) => s.write('a/', 60, 'A', 4)), b.sync((s) => s.write('b/', 60, 'B', 4)), a.sync((s) => s.write('both/', 20, 'A', 2, 10))]);
    await b.sync((s) => s.remove('b/', 5));
    await converged(a, b);
    const snapshot = await a.sync((s) => s.snapshot());
    // At most the stream's last seq: the cursor a's own records moved is saved a little later.
    expect(snapshot.pulledStreamSeq).toBeGreaterThan(100);
    expect(snapshot.bytes).toBeGreaterThan(0);
    // Nothing before the snapshot is left in the stream: only the snapshot can give it.
    await purgeBelow(a, options, snapshot.pulledStreamSeq + 1);
    await a.sync((s) => s.write('tail/', 10, 'A'));
    await b.sync((s) => s.write('both/', 5, 'B'));
    const expected = await converged(a, b);
    await c.open(name);
    await c.sync((s) => s.watch(0));
    await c.sync((s, o) => s.start(o), options);
    await c.sync((s) => s.pulled());
    expect(await c.sync((s) => s.scan())).toEqual(expected);
    const info = await c.sync((s) => s.info());
    expect(info.snapshotsApplied).toBe(1);
    expect(info.pulledStreamSeq).toBeGreaterThan(snapshot.pulledStreamSeq);
    // The snapshot arrived in the feed as changes, like any other record: every key, no gap.
    const { seen, resets } = await c.sync((s) => s.seen());
    expect(resets).toBe(0);
    expect(new Set(seen.map(([, key]) => key)).size).toBe(expected.length);
    expect(expected.length).toBe(60 + 55 + 10 + 10);
  } finally {
    await Promise.all([a.close(), b.close(), c.profile.context ? c.close() : undefined]);
  }
});

test('a purge below a device\'s cursor: STORE_SYNC_HISTORY_LOST until a snapshot covers it, then one change resets the device to it, its own offline writes kept', async () => {
  const name = storeName('sync-reset');
  const [a, b] = await Promise.all([new Device().open(name), new Device().open(name)]);
  try {
    const options = { servers: server.servers, stream: 'reset', ...USERS.alice };
    for (const d of [a, b]) await d.sync((s, o) => s.start(o), options);
    await Promise.all([a.sync((s) => s.write('a/', 30, 'A', 2)), b.sync((s) => s.write('b/', 30, 'B', 2))]);
    await converged(a, b);
    // b goes away; meanwhile a deletes and overwrites, b writes offline, and the stream is purged.
    await b.sync((s) => s.close());
    await a.sync((s) => s.remove('b/', 10));
    await a.sync((s) => s.write('a/', 10, 'A2'));
    await a.sync((s) => s.flush());
    await b.sync((s) => s.write('off/', 5, 'B'));
    const before = await b.sync((s) => s.scan());
    const { lastSeq } = await a.page.evaluate(async (o) => (await window.harness.sync()).nats.streamInfo(o.servers, o.user, o.pass, o.stream), options);
    await purgeBelow(a, options, lastSeq + 1);
    await b.sync((s, o) => s.start(o), options);
    expect(await b.sync((s) => s.waitFor('closed'))).toBe('closed');
    expect((await b.sync((s) => s.info())).lastError?.code).toBe('STORE_SYNC_HISTORY_LOST');
    expect(await b.sync((s) => s.scan())).toEqual(before);
    // A snapshot covers the gap: b resets to it.
    await a.sync((s) => s.snapshot());
    await a.sync((s) => s.write('tail/', 5, 'A'));
    const since = await b.page.evaluate(async () => (await window.harness.store!.info()).seq);
    await b.sync((s, since) => s.watch(since), since);
    await b.sync((s, o) => s.start(o), options);
    const after = await converged(a, b);
    expect(after.filter(([key]) => key.startsWith('off/')).length).toBe(5);
    expect(after.filter(([key]) => key.startsWith('b/')).length).toBe(20);
    expect(after.find(([key]) => key === 'a/0')?.[1]).toContain('A2');
    expect((await b.sync((s) => s.info())).snapshotsApplied).toBe(1);
    // The reset is in b's feed as changes: the deletes a made while the history was lost among them.
    const { seen, resets } = await b.sync((s) => s.seen());
    expect(resets).toBe(0);
    const deleted = seen.filter(([, key, value]) => key.startsWith('b/') && value === null).map(([, key]) => key);
    expect(new Set(deleted)).toEqual(new Set(Array.from({ length: 10 }, (_, i) => `b/${i}`)));
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('only the leader tab syncs; when it closes, the next leader goes on from the same cursor and nothing is lost or doubled', async () => {
  const name = storeName('sync-tabs');
  const [a, b] = await Promise.all([new Device().open(name), new Device().open(name)]);
  try {
    const options = { servers: server.servers, stream: 'tabs', ...USERS.alice };
    const a2 = await a.profile.page();
    await a2.evaluate((name) => window.harness.open(name), name);
    const follower = Object.assign(Object.create(Device.prototype) as Device, { profile: a.profile, page: a2 });
    for (const d of [a, follower, b]) await d.sync((s, o) => s.start(o), options);
    await b.sync((s) => s.watch(0));
    expect(await a2.evaluate(() => window.harness.store!.role)).toBe('follower');
    // A follower's writes go through the leader, and out.
    await follower.sync((s) => s.write('f/', 30, 'F', 3));
    await follower.sync((s) => s.flush());
    // The leader tab goes away; the follower takes over and its sync starts from the cursor.
    await a.page.close();
    await expect.poll(() => a2.evaluate(() => window.harness.store!.role), { timeout: 20_000 }).toBe('leader');
    await follower.sync((s) => s.write('g/', 30, 'F', 3));
    const scan = await converged(follower, b);
    expect(scan.length).toBe(60);
    const counts = await feedCounts(b, '');
    expect(counts.size).toBe(60);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test.describe('a three-node JetStream cluster', () => {
  test.beforeEach(async () => {
    // This describe's own servers: the outer beforeEach started one node; add a cluster beside it.
    await server.stop();
    server = await NatsDeployment.start(3);
  });

  test('a 3-replica stream: killing the node that leads it during sync loses nothing; the devices go on', async () => {
    const name = storeName('sync-cluster');
    const [a, b] = await Promise.all([new Device().open(name), new Device().open(name)]);
    try {
      const options = { servers: server.servers, stream: 'replicated', replicas: 3, ...USERS.alice };
      for (const d of [a, b]) {
        await d.sync((s) => s.watch(0));
        await d.sync((s, o) => s.start(o), options);
      }
      await a.sync((s) => s.write('a/', 50, 'A', 5));
      await converged(a, b);
      const before = await a.page.evaluate(async (o) => (await window.harness.sync()).nats.streamInfo(o.servers, o.user, o.pass, 'replicated'), options);
      const leader = server.nodes.find((n) => n.name === before.leader)!;
      expect(leader).toBeTruthy();
      const writing = Promise.all([a.sync((s) => s.write('a/x', 200, 'A', 4)), b.sync((s) => s.write('b/', 200, 'B', 4))]);
      await new Promise((r) => setTimeout(r, 200));
      await leader.kill9();
      await writing;
      const scan = await converged(a, b);
      expect(scan.length).toBe(450);
      for (const [d, prefix, n] of [[b, 'a/', 250], [a, 'b/', 200]] as const) {
        const counts = await feedCounts(d, prefix);
        expect(counts.size).toBe(n);
        expect([...counts.values()].every((c) => c === 1)).toBe(true);
      }
      const after = await a.page.evaluate(async (o) => (await window.harness.sync()).nats.streamInfo(o.servers.filter((_, i) => i !== o.dead), o.user, o.pass, 'replicated'), { ...options, dead: server.nodes.indexOf(leader) });
      expect(after.leader).not.toBe(before.leader);
      expect(after.messages).toBe(450);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
