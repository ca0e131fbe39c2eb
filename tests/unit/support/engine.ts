import { Engine, type EngineOptions } from '../../../src/engine/engine.js';
import { MemoryCatalog, MemoryDirectory } from '../../../src/engine/memory.js';
import type { EncodedOp } from '../../../src/protocol.js';

export const STORE = 'test';
export const text = new TextEncoder();
export const untext = new TextDecoder();

/** A directory and catalog that persist across "reboots" of the engine. */
export function machine() {
  const dir = new MemoryDirectory();
  const catalog = new MemoryCatalog(dir);
  return { dir, catalog };
}

export function openEngine(m: ReturnType<typeof machine>, options: Partial<EngineOptions> = {}) {
  return Engine.open(m.dir, m.catalog, STORE, { durability: 'strict', preallocateBytes: 0, yieldToEvents: () => Promise.resolve(), ...options });
}

export const put = (key: string, value: string): EncodedOp => ({ type: 'put', key, value: text.encode(value) });
export const del = (key: string): EncodedOp => ({ type: 'del', key });

/** Every key and value of an engine, decoded as text. */
export function dump(engine: Engine): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of engine.scan({}, Number.MAX_SAFE_INTEGER).entries) out.set(key, untext.decode(value));
  return out;
}

/** Apply records to a model map. */
export function applyModel(model: Map<string, string>, records: readonly (readonly EncodedOp[])[]): Map<string, string> {
  const next = new Map(model);
  for (const ops of records) {
    for (const op of ops) {
      if (op.type === 'put') next.set(op.key, untext.decode(op.value));
      else next.delete(op.key);
    }
  }
  return new Map([...next].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
