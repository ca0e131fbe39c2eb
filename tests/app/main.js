// Used exactly as the README shows: no worker option, so walden starts its own.
import { openStore, StoreError } from 'walden';

const out = document.getElementById('result');
try {
  const store = await openStore('consumer');
  const before = await store.get('visits');
  const seq = await store.put('visits', (before ?? 0) + 1);
  const info = await store.info();
  // A second open is a follower of the first: its default worker forwards to the leader.
  const second = await openStore('consumer');
  const follower = { role: second.role, sees: await second.get('visits') };
  await second.close();
  let code = 'none';
  try {
    await store.put('\u0000walden:x', 1);
  } catch (error) {
    code = error instanceof StoreError ? error.code : error.name;
  }
  out.textContent = JSON.stringify({ visits: await store.get('visits'), seq, keys: info.keys, follower, reservedKey: code });
} catch (error) {
  out.textContent = `error: ${error}`;
}
