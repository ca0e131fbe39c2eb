// `npm run demo:sync`: a local nats-server (JetStream, WebSocket on ws://127.0.0.1:9222, the
// account DEMO with the user demo/demo) and the demo on http://127.0.0.1:5173. Open
// http://127.0.0.1:5173/?sync&device=1 and http://127.0.0.1:5173/?sync&device=2: two stores,
// two devices, syncing through the server. Ctrl-C stops both; the server's data is removed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NATS_SERVER = process.env.NATS_SERVER ?? (process.platform === 'linux' ? '/usr/sbin/nats-server' : 'nats-server');
const dir = mkdtempSync(join(tmpdir(), 'walden-demo-nats-'));
const config = join(dir, 'nats.conf');
writeFileSync(
  config,
  `listen: "127.0.0.1:4222"
jetstream { store_dir: "${join(dir, 'jetstream')}" }
websocket { listen: "127.0.0.1:9222", no_tls: true }
accounts {
  DEMO: { jetstream: enabled, users: [ { user: "demo", password: "demo" } ] }
}
`,
);
const nats = spawn(NATS_SERVER, ['-c', config], { stdio: 'inherit' });
nats.on('error', (error) => {
  console.error(`walden demo: could not start ${NATS_SERVER} (${error.message}); install nats-server (Debian: apt-get install -y nats-server) or set NATS_SERVER`);
  process.exit(1);
});
const vite = spawn(process.execPath, ['node_modules/vite/bin/vite.js', '--config', 'demo/vite.config.ts'], { stdio: 'inherit' });
console.log('walden demo: open http://127.0.0.1:5173/?sync&device=1 and http://127.0.0.1:5173/?sync&device=2');
const stop = () => {
  nats.kill();
  vite.kill();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
nats.on('exit', () => stop());
vite.on('exit', () => stop());
