/**
 * Real `nats-server` processes for the sync specs: JetStream on, a WebSocket listener without
 * TLS on loopback, two accounts (alice and bob) each with JetStream, on free ports and a
 * temporary store directory; one server, or a three-node cluster. Kill with SIGKILL and restart
 * on the same directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The accounts every test server has: one user each. */
export const USERS = { alice: { user: 'alice', pass: 'alice-secret' }, bob: { user: 'bob', pass: 'bob-secret' } } as const;

/** Where Debian puts the server (or `NATS_SERVER`). */
export const NATS_SERVER = process.env.NATS_SERVER ?? (process.platform === 'linux' ? '/usr/sbin/nats-server' : 'nats-server');

/**
 * `count` distinct free loopback TCP ports: every listener stays open until all are taken, so no
 * two of them can be the same port (picked one at a time, the kernel may hand one out again).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One server of a test deployment. */
export class NatsNode {
  process: ChildProcess | undefined;
  log = '';

  constructor(
    readonly name: string,
    readonly port: number,
    readonly wsPort: number,
    readonly clusterPort: number | undefined,
    readonly dir: string,
    readonly routes: number[],
  ) {}

  /** The URL a browser connects to. */
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.wsPort}`;
  }

  #config(): string {
    const accounts = Object.entries(USERS)
      .map(([account, { user, pass }]) => `  ${account.toUpperCase()}: { jetstream: enabled, users: [ { user: "${user}", password: "${pass}" } ] }`)
      .join('\n');
    const cluster = this.clusterPort
      ? `server_name: ${this.name}\ncluster { name: walden-test, listen: "127.0.0.1:${this.clusterPort}", routes: [ ${this.routes.map((p) => `"nats://127.0.0.1:${p}"`).join(', ')} ] }\n`
      : `server_name: ${this.name}\n`;
    return `listen: "127.0.0.1:${this.port}"
${cluster}jetstream { store_dir: "${join(this.dir, 'jetstream')}" }
websocket { listen: "127.0.0.1:${this.wsPort}", no_tls: true }
max_payload: 1048576
accounts {
${accounts}
}
`;
  }

  /** Start (or restart, on the same store directory). */
  async start(): Promise<void> {
    const config = join(this.dir, 'server.conf');
    writeFileSync(config, this.#config());
    const child = spawn(NATS_SERVER, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    const keep = (chunk: Buffer) => (this.log = (this.log + chunk.toString()).slice(-20_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    // A server that exits (its port still taken, a bad config) must not pass for one that listens.
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`nats-server ${this.name} exited (${code}) while starting:\n${this.log}`))));
    exited.catch(() => {});
    await Promise.race([waitForPort(this.wsPort), exited]);
  }

  /**
   * SIGKILL: no shutdown, whatever was in flight is cut. Resolves once the process is gone (a
   * restart right after must not find the dying one still on its ports).
   */
  async kill9(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    child.kill('SIGKILL');
  }
}

/** A deployment: one node, or three in a cluster. */
export class NatsDeployment {
  private constructor(
    readonly nodes: NatsNode[],
    readonly root: string,
  ) {}

  /** Start `size` nodes (1, or 3 for a cluster with routes between them). */
  static async start(size: 1 | 3 = 1): Promise<NatsDeployment> {
    const root = mkdtempSync(join(tmpdir(), 'walden-nats-'));
    const free = await freePorts(size * 3);
    const ports = Array.from({ length: size }, (_, i) => ({ port: free[3 * i]!, ws: free[3 * i + 1]!, cluster: size > 1 ? free[3 * i + 2]! : undefined }));
    const nodes = ports.map((p, i) => {
      const dir = join(root, `n${i + 1}`);
      mkdirSync(dir, { recursive: true });
      const routes = size > 1 ? ports.filter((_, j) => j !== i).map((q) => q.cluster!) : [];
      return new NatsNode(`n${i + 1}`, p.port, p.ws, p.cluster, dir, routes);
    });
    await Promise.all(nodes.map((node) => node.start()));
    return new NatsDeployment(nodes, root);
  }

  /** Every node's WebSocket URL. */
  get servers(): string[] {
    return this.nodes.map((n) => n.wsUrl);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    rmSync(this.root, { recursive: true, force: true });
  }
}
