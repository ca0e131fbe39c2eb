// A child process for the Node crash test: writes to a walden/node store as fast as it can,
// printing each acknowledged write ("ack <key> <seq>") until it is killed.
import { openStore } from '../../dist/node.js';

const [dir, round] = process.argv.slice(2);
const store = await openStore('crash', { dir, compactThresholdBytes: 64 * 1024 });
let i = 0;
const writer = async () => {
  for (;;) {
    const n = i++;
    const key = `r${round}:${n}`;
    const seq = n % 7 === 6 ? await store.batch([{ type: 'put', key, value: { n, at: new Date(n) } }, { type: 'put', key: `${key}:b`, value: n }]) : await store.put(key, { n, at: new Date(n), pad: 'x'.repeat(n % 300) });
    process.stdout.write(`ack ${key} ${seq}\n`);
  }
};
await Promise.all([writer(), writer(), writer()]);
