// Tabs bench: a dedicated worker in each tab, answering or sending pings over one transport.
// `bc`: a BroadcastChannel; `port`: a MessagePort to the other tab's worker, brokered by a SharedWorker.
type Start = { role: 'server' | 'client'; transport: 'bc' | 'port'; port?: MessagePort; count?: number };

const scope = self as unknown as { onmessage: ((event: MessageEvent<Start>) => void) | null; postMessage(message: unknown): void };

scope.onmessage = async ({ data }) => {
  const endpoint: { postMessage(m: unknown): void; onmessage: ((e: MessageEvent) => void) | null } = data.transport === 'bc' ? new BroadcastChannel('walden-bench-ping') : data.port!;
  if (data.role === 'server') {
    endpoint.onmessage = (e) => endpoint.postMessage({ pong: (e.data as { ping: number }).ping });
    scope.postMessage('listening');
    return;
  }
  const rtts: number[] = [];
  let resolve: () => void = () => {};
  endpoint.onmessage = () => resolve();
  for (let i = 0; i < (data.count ?? 2000); i++) {
    const t = performance.now();
    await new Promise<void>((r) => {
      resolve = r;
      endpoint.postMessage({ ping: i });
    });
    rtts.push(performance.now() - t);
  }
  scope.postMessage({ rtts });
};
export {};
