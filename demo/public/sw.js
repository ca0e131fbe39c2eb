// Walden Notes service worker: keeps the app shell so the app loads with the network off.
// Network first (so a new build is picked up), cache as the fallback; the page sends the URLs
// it loaded before this worker controlled it, so they are cached too.
const CACHE = 'walden-notes-v1';

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(['./', './index.html', './manifest.webmanifest', './icon.svg'])));
  self.skipWaiting();
});

self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('message', (event) => {
  if (event.data?.cache) event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(event.data.cache)));
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== location.origin) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        const copy = response.clone();
        if (response.ok) caches.open(CACHE).then((cache) => cache.put(request, copy));
        return response;
      })
      // ignoreVary: module scripts carry an Origin header that the cached copies were fetched without.
      .catch(() => caches.match(request, { ignoreSearch: true, ignoreVary: true }).then((hit) => hit ?? caches.match('./index.html'))),
  );
});
