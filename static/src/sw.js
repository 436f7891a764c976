// sw.js - the service worker: offline reading.
//
//  - The app shell (index.html, app.css, main.js and every chunk of this
//    build) is stored at install, in a cache named after the build, so a
//    reader can open the app without a network.  index.html is still asked
//    from the network first: online, a new build is seen at once.
//  - Content API answers (library groups, textbooks, pages, courses, the
//    component libraries' definitions) and the libraries' files are kept
//    as they are fetched, so every page a reader has opened opens again
//    offline.  The API is always asked first: while online nothing stale
//    is ever served; the cache answers only when the network fails.
//  - Personal data (account, auth API, tickets) never goes into the cache;
//    logging out empties the API cache (session.js).
/* global __PRECACHE__, __BUILD__ */
const SHELL = `ob-shell-${__BUILD__}`;
const API = 'ob-api';
const PRECACHE = __PRECACHE__;

/** Paths whose GET answers are kept for offline reading. */
function cacheable(url) {
  if (url.origin !== self.location.origin) return false;
  const p = url.pathname;
  return p.startsWith('/api/content/') || p.startsWith('/api/core/html_library/') ||
    p.startsWith('/api/core/languages') || p.startsWith('/api/core/sites/') ||
    p.startsWith('/media/lib/');
}

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('ob-shell-') && key !== SHELL) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

async function networkFirst(request, cacheName, store) {
  try {
    const response = await fetch(request);
    if (store && response.ok) {
      const copy = response.clone();
      caches.open(cacheName).then((c) => c.put(request, copy)).catch(() => {});
    }
    return response;
  } catch (e) {
    const hit = await caches.match(request, { cacheName, ignoreVary: true });
    if (hit) return hit;
    throw e;
  }
}

async function cacheFirst(request) {
  const hit = await caches.match(request, { cacheName: SHELL, ignoreSearch: true });
  return hit || fetch(request);
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/app/')) {
    const name = url.pathname.slice('/app/'.length);
    if (name === '' || name === 'index.html' || name === 'sw.js') {
      event.respondWith(networkFirst(req, SHELL, true).catch(() => caches.match("./", { cacheName: SHELL })));
    } else {
      event.respondWith(cacheFirst(req));
    }
    return;
  }
  if (cacheable(url)) event.respondWith(networkFirst(req, API, true));
});
