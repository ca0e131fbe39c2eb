// Tabs bench: the SharedWorker that hands a client tab's MessagePort to the server tab's worker.
const scope = self as unknown as { onconnect: ((event: MessageEvent) => void) | null };
let server: MessagePort | undefined;

scope.onconnect = (event) => {
  const control = event.ports[0]!;
  control.onmessage = ({ data, ports }) => {
    if (data === 'serve') server = ports[0];
    else if (data === 'connect' && server) server.postMessage('client', [ports[0]!]);
  };
};
export {};
