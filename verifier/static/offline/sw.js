// Service worker for the offline QR-seal checker, registered by the checker for three scopes:
// /verify/offline (the checker), and /v/ and /V/ (the links QR codes carry: upper case fits
// the QR code's alphanumeric mode).
// It keeps the page, its script and stylesheet (and the Indic fonts) so the checker opens
// with no network after one online visit; and when a scanned /v/{id}#seal link cannot reach
// the server, it answers with the checker, which reads the seal from the fragment.
// The trust list and status list are saved by the page itself in its own cache
// ("sanad-trust-v1"), so the online QR page shares them too.
const VERSION = "sanad-offline-v3";
const SHELL = [
  "/verify/offline",
  "/static/offline/verify.js",
  "/static/offline/cbor.js",
  "/static/offline/verify.css",
  "/static/locker/fonts.css",
];
// Names on certificates are often Gurmukhi or Devanagari; phones may lack those fonts. The
// pages' WOFF2 subsets (16 and 63 KB, and 3-4 KB for the switcher's names), not whole fonts.
const FONTS = [
  "/static/locker/fonts/gurmukhi.woff2",
  "/static/locker/fonts/devanagari.woff2",
  "/static/locker/fonts/name-pa.woff2",
  "/static/locker/fonts/name-hi.woff2",
];
const NETWORK_TIMEOUT_MS = 5000;
const CHECKER = "/verify/offline";

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(VERSION);
      await cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload" })));
      await Promise.allSettled(FONTS.map((url) => cache.add(url)));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("sanad-offline-") && name !== VERSION) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

async function fetchWithin(url, ms) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  try {
    return await fetch(url, { signal: abort.signal, credentials: "same-origin", cache: "no-cache" });
  } finally {
    clearTimeout(timer);
  }
}

// Online: the newest copy (and keep it). Offline or too slow: the saved one.
async function networkFirst(path) {
  const cache = await caches.open(VERSION);
  try {
    const response = await fetchWithin(path, NETWORK_TIMEOUT_MS);
    if (response.ok) {
      await cache.put(path, response.clone());
      return response;
    }
    return (await cache.match(path)) || response;
  } catch {
    return (await cache.match(path)) || Response.error();
  }
}

// A QR link: the registry's own page when it can be reached, else the offline checker.
async function qrPage(request) {
  try {
    return await fetch(request);
  } catch {
    const cache = await caches.open(VERSION);
    return (await cache.match(CHECKER)) || Response.error();
  }
}

async function cacheFirst(request, path) {
  const cache = await caches.open(VERSION);
  const hit = await cache.match(path);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) await cache.put(path, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // The query (?lang=) does not change the page; the #seal never reaches here.
  if (SHELL.includes(url.pathname)) event.respondWith(networkFirst(url.pathname));
  else if (request.mode === "navigate" && /^\/v\//i.test(url.pathname)) event.respondWith(qrPage(request));
  else if (FONTS.includes(url.pathname)) event.respondWith(cacheFirst(request, url.pathname));
  // Everything else, the trust list included, goes to the network untouched.
});
