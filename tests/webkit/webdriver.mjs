// A W3C WebDriver client for WebKitWebDriver (WebKitGTK), just what the WebKit specs use: one
// driver and one session per browser launch, on a persistent profile (tests/webkit/browser.py).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const BROWSER = fileURLToPath(new URL('./browser.py', import.meta.url));
/** Where WebKitWebDriver is (Debian's `webkit2gtk-driver`), or WALDEN_WEBKIT_DRIVER. */
export const DRIVER = process.env.WALDEN_WEBKIT_DRIVER ?? '/usr/bin/WebKitWebDriver';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Whether process `pid` still runs (a zombie has stopped: only its parent's wait is missing). */
function running(pid) {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** Every process below `root` (the driver's browser and WebKit's web and network processes). */
function descendants(root) {
  const all = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        return { pid: Number(name), ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) };
      } catch {
        return { pid: Number(name), ppid: -1 };
      }
    });
  const out = [];
  const walk = (parent) => {
    for (const { pid, ppid } of all) if (ppid === parent) out.push(pid), walk(pid);
  };
  walk(root);
  return out;
}

/** One browser launch on `profile`, driven through one WebDriver session. */
export class WebKitSession {
  #driver;
  #base;
  #id;

  /**
   * Launch the browser on the profile folder `profile` (created by the browser if missing), with
   * WebKit feature flags such as `['+StorageAPI', '+FileSystem']`.
   */
  static async launch(profile, { features = [] } = {}) {
    const session = new WebKitSession();
    const port = await freePort();
    session.#base = `http://127.0.0.1:${port}`;
    session.#driver = spawn(DRIVER, [`--port=${port}`], { env: { ...process.env, WALDEN_WEBKIT_PROFILE: profile, WALDEN_WEBKIT_FEATURES: features.join(',') }, stdio: 'ignore' });
    for (let i = 0; ; i++) {
      try {
        await fetch(`${session.#base}/status`);
        break;
      } catch (error) {
        if (i > 100) throw error;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const created = await session.#call('POST', '/session', { capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: BROWSER, args: ['--automation'] } } } });
    session.#id = created.sessionId;
    return session;
  }

  async #call(method, path, body) {
    const response = await fetch(this.#base + path, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = await response.json();
    if (json.value?.error && typeof json.value.error === 'string') throw new Error(`WebDriver ${method} ${path}: ${json.value.error}: ${json.value.message}`);
    return json.value;
  }

  #session(path) {
    return `/session/${this.#id}${path}`;
  }

  /** Load `url` in the current window and wait until the harness says it is ready. */
  async goto(url) {
    await this.#call('POST', this.#session('/url'), { url });
    for (let i = 0; ; i++) {
      if ((await this.#call('POST', this.#session('/execute/sync'), { script: 'return document.getElementById("status")?.textContent', args: [] })) === 'ready') return;
      if (i > 300) throw new Error(`${url} never became ready`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Run `fn(...args)` in the current window and return its result; a throw in the page comes back
   * as an Error carrying the page's `name`, `code` and message.
   */
  async run(fn, ...args) {
    const script = `const done = arguments[arguments.length - 1];
      (${fn.toString()})(...Array.from(arguments).slice(0, -1)).then(
        (value) => done({ value }),
        (e) => done({ error: { name: e && e.name, code: e && e.code, message: String(e && e.message), stack: String(e && e.stack) } }));`;
    const result = await this.#call('POST', this.#session('/execute/async'), { script, args });
    if (result?.error) throw Object.assign(new Error(`in the page: ${result.error.name}: ${result.error.message}\n${result.error.stack}`), { name: result.error.name, code: result.error.code });
    return result?.value;
  }

  /** Set the script timeout (ms). */
  async scriptTimeout(ms) {
    await this.#call('POST', this.#session('/timeouts'), { script: ms });
  }

  /** Open a new window (a second tab of the same profile) and make it current; returns its handle. */
  async newWindow() {
    const { handle } = await this.#call('POST', this.#session('/window/new'), { type: 'window' });
    await this.switchTo(handle);
    return handle;
  }

  /** The current window's handle. */
  window() {
    return this.#call('GET', this.#session('/window'));
  }

  /** Make window `handle` current. */
  async switchTo(handle) {
    await this.#call('POST', this.#session('/window'), { handle });
  }

  /** Close the current window (its page goes, as when a person closes the tab). */
  async closeWindow() {
    await this.#call('DELETE', this.#session('/window'));
  }

  /**
   * End the session: the browser quits as it would when closed. Resolves once every WebKit
   * process of it is gone (killed after 5 s), so nothing writes into the profile afterwards (a
   * network process still writing its cache made removing the profile fail, in CI).
   */
  async close() {
    const processes = descendants(this.#driver.pid);
    await this.#call('DELETE', this.#session('')).catch(() => {});
    const alive = () => processes.filter(running);
    for (const deadline = Date.now() + 5000; alive().length > 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
    for (const pid of alive()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.#driver.kill();
  }

  /** SIGKILL the browser and every WebKit process under it, mid-whatever, then the driver. */
  kill() {
    for (const pid of descendants(this.#driver.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.#driver.kill('SIGKILL');
  }
}
