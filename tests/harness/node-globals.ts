/**
 * The bits of Node's globals that tape (abstract-level's test runner) reads, for running it in a
 * page: `process.env`, `process.cwd()`, `__dirname` and a `setImmediate` on a MessageChannel (a macrotask, so
 * the page's I/O keeps flowing between tests). Imported before tape, by the Level page only.
 */
const globals = globalThis as unknown as { process?: unknown; setImmediate?: unknown; __dirname?: string };
// tape names its own directory when it trims stack traces of failures.
globals.__dirname ??= '/node_modules/tape/lib';
globals.process ??= { env: {}, cwd: () => '/', platform: 'browser', nextTick: (fn: (...args: unknown[]) => void, ...args: unknown[]) => queueMicrotask(() => fn(...args)) };
if (!globals.setImmediate) {
  const channel = new MessageChannel();
  const queue: (() => void)[] = [];
  channel.port1.onmessage = () => queue.shift()?.();
  globals.setImmediate = (fn: (...args: unknown[]) => void, ...args: unknown[]) => {
    queue.push(() => fn(...args));
    channel.port2.postMessage(0);
  };
}
export {};
