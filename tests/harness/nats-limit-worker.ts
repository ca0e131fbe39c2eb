/**
 * The limit for sync's figures (`bench/sync.mjs`): the plain NATS client in a dedicated worker,
 * publishing the same number of messages of the same size to a JetStream stream, pipelined as
 * sync does, and reading them back with an ordered consumer.
 */
import { wsconnect } from '@nats-io/nats-core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';

self.onmessage = async (event: MessageEvent<{ servers: string[]; user: string; pass: string; count: number; bytes: number; window: number }>) => {
  const { servers, user, pass, count, bytes, window: inFlight } = event.data;
  const nc = await wsconnect({ servers, user, pass });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const stream = `limit${Date.now()}`;
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  const body = new Uint8Array(bytes).fill(7);
  const started = performance.now();
  for (let i = 0; i < count; i += inFlight) {
    await Promise.all(Array.from({ length: Math.min(inFlight, count - i) }, (_, j) => js.publish(`${stream}.dev`, body, { msgID: `dev-${i + j}` })));
  }
  const publishMs = performance.now() - started;
  const consumer = await js.consumers.get(stream);
  const readStarted = performance.now();
  const messages = await consumer.consume();
  let read = 0;
  for await (const _ of messages) if (++read >= count) break;
  const consumeMs = performance.now() - readStarted;
  // Round trip of one message: publish, acknowledged, delivered to a consumer of the same stream.
  const latencies: number[] = [];
  const live = await (await js.consumers.get(stream, { deliver_policy: 'new' })).consume();
  const iterator = live[Symbol.asyncIterator]();
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await js.publish(`${stream}.dev`, body);
    await iterator.next();
    latencies.push(performance.now() - t);
  }
  await nc.close();
  self.postMessage({ publishPerSecond: count / (publishMs / 1000), consumePerSecond: count / (consumeMs / 1000), latencies });
};
