// Reads the JS heap of a page's dedicated workers through the browser's CDP endpoint
// (Playwright has no CDP session for workers; performance.memory does not exist in workers).

/** Used heap bytes of every dedicated worker of the browser behind `context` that answers within 5 s. */
export async function workerHeaps(context) {
  const cdp = await context.browser().newBrowserCDPSession();
  const { targetInfos } = await cdp.send('Target.getTargets');
  const workers = targetInfos.filter((t) => t.type === 'worker');
  const heaps = [];
  for (const target of workers) {
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: target.targetId, flatten: false });
    const reply = new Promise((resolve) => {
      const onMessage = (event) => {
        if (event.sessionId !== sessionId) return;
        const message = JSON.parse(event.message);
        if (message.id !== 1) return;
        cdp.off('Target.receivedMessageFromTarget', onMessage);
        resolve(message.result);
      };
      cdp.on('Target.receivedMessageFromTarget', onMessage);
    });
    await cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: 1, method: 'Runtime.getHeapUsage' }) });
    // A worker that was just terminated can still be listed, and never answers: skip it.
    const result = await Promise.race([reply, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    if (result) heaps.push({ url: target.url, usedBytes: result.usedSize, totalBytes: result.totalSize });
    await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => {});
  }
  await cdp.detach();
  return heaps;
}
