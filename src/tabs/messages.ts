/**
 * The messages the workers of one store exchange on the BroadcastChannel `walden:<name>`:
 * the leader's heartbeat, forwarded calls and their answers, and the change stream's frames.
 * Types and the error wire form only.
 */
import { StoreError, type StoreErrorCode } from '../errors.js';
import type { EncodedChange, RecordApi } from '../protocol.js';
import type { RequestTag } from '../protocol.js';

/** The engine calls a follower forwards to the leader. */
export type ForwardedMethod = 'commit' | 'get' | 'getMany' | 'scan' | 'readChanges' | 'readResetView' | 'wake' | 'exportBegin' | 'exportChunk' | 'compact' | 'info' | 'sync';

/** The arguments of a forwarded method, as {@link RecordApi} declares them. */
export type ForwardedArgs<M extends ForwardedMethod> = Parameters<RecordApi[M]>;

/** A heartbeat (every {@link HEARTBEAT_MS}) and announcement of the leader: `ready` once its files are open. */
export interface LeaderMessage {
  t: 'leader';
  id: string;
  epoch: number;
  ready: boolean;
}

/** A new worker asks who leads; the leader answers with a {@link LeaderMessage} at once. */
export interface HelloMessage {
  t: 'hello';
  from: string;
}

/** A follower says it is there (every second), so the leader keeps sending frames, and whether its page is visible (a hidden leader hands over to a visible tab). */
export interface FollowerMessage {
  t: 'follower';
  from: string;
  visible: boolean;
}

/** A call forwarded to the leader `to`; `id` is unique per sender, `tag` makes a commit idempotent. */
export interface RequestMessage {
  t: 'req';
  to: string;
  from: string;
  id: number;
  method: ForwardedMethod;
  args: unknown[];
  tag?: RequestTag;
}

/** The leader's answer to request `id` of worker `to`. */
export type ResponseMessage = { t: 'res'; to: string; id: number; epoch: number } & ({ ok: true; value: unknown } | { ok: false; error: WireError });

/** Records the leader of `epoch` committed, in seq order; followers expect them without gaps. */
export interface FrameMessage {
  t: 'frame';
  epoch: number;
  changes: EncodedChange[];
}

/** Everything that travels on the channel. */
export type TabMessage = LeaderMessage | HelloMessage | FollowerMessage | RequestMessage | ResponseMessage | FrameMessage;

/** How often the leader says it is alive. */
export const HEARTBEAT_MS = 250;
/** A ready leader silent for this long is presumed hung: a follower steals the lock. */
export const LEADER_SILENT_MS = 3_000;
/** The same for a leader that is still opening (recovery of a large store takes a while). */
export const OPENING_SILENT_MS = 20_000;

/** An error as it crosses the channel. */
export interface WireError {
  code?: StoreErrorCode;
  name: string;
  message: string;
}

/** The wire form of a thrown value. */
export function toWire(error: unknown): WireError {
  if (error instanceof StoreError) return { code: error.code, name: error.name, message: error.message };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

/** The thrown value back from its wire form: a StoreError, a TypeError, or an Error. */
export function fromWire(wire: WireError): Error {
  if (wire.code) return new StoreError(wire.code, wire.message);
  const error = wire.name === 'TypeError' ? new TypeError(wire.message) : new Error(wire.message);
  if (wire.name !== 'TypeError') error.name = wire.name;
  return error;
}
