// A child process for the Node close test: writes a log long enough for `close()` to compact
// it, closes the store as a script's last line, and prints "closed <seq>" once `close()` has
// resolved. Nothing else keeps the process alive: the compaction's own work must.
import { openStore } from '../../dist/node.js';

const [dir] = process.argv.slice(2);
const store = await openStore('exit', { dir });
let seq = 0;
for (let b = 0; b < 20; b++) {
  seq = await store.batch(Array.from({ length: 1000 }, (_, i) => ({ type: 'put', key: `k${String(b * 1000 + i).padStart(8, '0')}`, value: 'x'.repeat(100) })));
}
await store.close();
process.stdout.write(`closed ${seq}\n`);
