/**
 * Sync across devices over NATS JetStream, with a real `nats-server` (JetStream, WebSocket) on
 * loopback and two persistent browser profiles as two devices.
 */
import type { Page } from '@playwright/test';
import { Profile } from './support/browser.js';
import { expect, storeName, test } from './support/fixtures.js';
import { NatsDeployment, USERS } from './support/nats.js';

test.describe.configure({ timeout: 240_000 });

/** A device: its own profile, a page with the harness store open. */
class Device {
  readonly profile = new Profile();
  page!: Page;

  async open(name: string): Promise<this> {
    await this.profile.launch();
    this.page = await this.profile.page();
    await this.page.evaluate((name) => window.harness.open(name), name);
    return this;
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
