/**
 * How the leader runs a forwarded call on its engine: one typed entry per method of
 * {@link ForwardedMethod}, each taking the arguments as {@link RecordApi} declares them.
 */
import type { Engine } from '../engine/engine.js';
import type { EncodedOp, RequestTag } from '../protocol.js';
import type { ForwardedArgs, ForwardedMethod } from '../tabs/messages.js';

/** Commits go through the host (fence checks, frames); everything else straight to the engine. */
export type CommitOnEngine = (engine: Engine, writes: EncodedOp[][], tag: RequestTag | undefined) => Promise<number[]>;

/** The methods that run on the engine (sync calls go to the worker's sync host). */
export type EngineMethod = Exclude<ForwardedMethod, 'sync'>;

type Handlers = { [M in EngineMethod]: (engine: Engine, args: ForwardedArgs<M>, commit: CommitOnEngine, tag: RequestTag | undefined) => unknown };

const HANDLERS: Handlers = {
  commit: (engine, [writes], commit, tag) => commit(engine, writes as EncodedOp[][], tag),
  get: (engine, [key]) => engine.get(key),
  getMany: (engine, [keys]) => engine.getMany(keys),
  scan: (engine, [range, pageSize]) => engine.scan(range, pageSize),
  readChanges: (engine, [since, range, maxRecords, waitMs]) => engine.readChanges(since, range, maxRecords, waitMs),
  readResetView: (engine, [view, afterKey, range, pageSize]) => engine.readResetView(view, afterKey, range, pageSize),
  wake: (engine) => engine.wake(),
  exportBegin: (engine) => engine.exportBegin(),
  exportChunk: (engine, [view, maxBytes]) => engine.exportChunk(view, maxBytes),
  compact: (engine) => engine.compact(),
  info: (engine) => engine.info(),
};

/** Run `method` with `args` (as they came over the channel) on `engine`. */
export function dispatch(engine: Engine, method: EngineMethod, args: unknown[], commit: CommitOnEngine, tag?: RequestTag): unknown {
  const handler = HANDLERS[method] as (engine: Engine, args: unknown[], commit: CommitOnEngine, tag: RequestTag | undefined) => unknown;
  return handler(engine, args, commit, tag);
}
