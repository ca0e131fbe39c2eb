/**
 * `walden/react` in use: components that read through `useStore`, `useValue` and `useScan`,
 * mounted with React 19 and `react-dom`, each remembering every result it rendered so specs can
 * check order, identity and the final state.
 */
import { Component, createElement, StrictMode, useState, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import type { Store } from '../../src/index.js';
import WaldenWorker from '../../src/worker.ts?worker';
import { useScan, useStore, useValue } from '../../src/adapters/react.js';

/** What one probe rendered, in order. */
interface Probe {
  values: unknown[];
  scans: (readonly (readonly [string, unknown])[] | undefined)[];
  store: Store | undefined;
  error: string | undefined;
  /** Render again with nothing changed (to check identities). */
  rerender: () => void;
}

const probes = new Map<string, Probe>();
const roots: Root[] = [];

class Boundary extends Component<{ id: string; children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };
  static getDerivedStateFromError() {
    return { failed: true };
  }
  override componentDidCatch(error: Error) {
    const probe = probes.get(this.props.id)!;
    const code = (error as Error & { code?: string }).code;
    probe.error = `${error.name}${code ? ` ${code}` : ''}: ${error.message}`;
  }
  override render() {
    return this.state.failed ? null : this.props.children;
  }
}

interface ProbeProps {
  id: string;
  name: string;
  valueKey: unknown;
  prefix: string;
  lt: string | undefined;
}

/** One worker per store name: the dev server has no built worker script, so the harness passes its own. */
const workers = new Map<string, Worker>();
const workerFor = (name: string) => workers.get(name) ?? workers.set(name, new WaldenWorker()).get(name)!;

function ProbeView({ id, name, valueKey, prefix, lt }: ProbeProps) {
  const store = useStore(name, { worker: workerFor(name) });
  const value = useValue(store, valueKey as string);
  const scan = useScan(store, lt === undefined ? { prefix } : { prefix, lt });
  const [, setTick] = useState(0);
  const probe = probes.get(id)!;
  probe.values.push(value);
  probe.scans.push(scan);
  probe.store = store;
  probe.rerender = () => setTick((t) => t + 1);
  return createElement('div', { 'data-probe': id }, JSON.stringify(value ?? null));
}

export const react = {
  /** Mount probe `id` over store `name` (in Strict Mode when asked): it follows `valueKey` and keys under `prefix` (below `lt`, if given). */
  mount(id: string, name: string, valueKey: unknown, prefix: string, strict = false, lt?: string): void {
    probes.set(id, { values: [], scans: [], store: undefined, error: undefined, rerender: () => {} });
    const host = document.createElement('div');
    document.body.append(host);
    const root = createRoot(host);
    roots.push(root);
    const tree = createElement(Boundary, { id, children: createElement(ProbeView, { id, name, valueKey, prefix, lt }) });
    root.render(strict ? createElement(StrictMode, null, tree) : tree);
  },
  probe: (id: string) => probes.get(id),
  /** Unmount everything (the stores `useStore` opened close). */
  unmountAll(): void {
    for (const root of roots.splice(0)) root.unmount();
    workers.clear();
  },
};
