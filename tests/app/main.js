// Used exactly as the README shows: no worker option, so walden starts its own.
import { openStore, StoreError } from 'walden';

const out = document.getElementById('result');
try {
  const store = await openStore('consumer');
  const before = await store.get('visits');
  const seq = await store.put('visits', (before ?? 0) + 1);
  const info = await store.info();
  let code = 'none';
  try {
    await openStore('consumer');
  } catch (error) {
    code = error instanceof StoreError ? error.code : String(error);
  }
  out.textContent = JSON.stringify({ visits: await store.get('visits'), seq, keys: info.keys, lockedCode: code });
} catch (error) {
  out.textContent = `error: ${error}`;
}
