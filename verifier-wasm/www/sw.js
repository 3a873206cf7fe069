// The scanner's service worker: keeps every file of the page in a cache so that the page opens
// and verifies with no network at all after its first load. `scripts/build-wasm.sh` stamps
// VERSION with a hash of the files, so a new build replaces the cache on the next online load.
//
// Only the page's own files are served from the cache. Everything else (a node's API when the
// operator presses "Fetch", the trust files beside the page) goes to the network untouched: the
// page keeps its trust in IndexedDB, not here.
const VERSION = "dev";
const CACHE = `lichen-scanner-${VERSION}`;
const ASSETS = [
  "./",
  "index.html",
  "scanner.js",
  "scanner.css",
  "qr-text.js",
  "trust-store.js",
  "qr-worker.js",
  "zxing-reader.js",
  "zxing_reader.wasm",
  "lichen_verifier_wasm.js",
  "lichen_verifier_wasm_bg.wasm",
  "manifest.webmanifest",
  "icon.svg",
  "icon-192.png",
  "icon-512.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(ASSETS.map((a) => new Request(a, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((k) => k.startsWith("lichen-scanner-") && k !== CACHE).map((k) => caches.delete(k)),
      ))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  const scope = new URL(self.registration.scope);
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return;
  const name = url.pathname.slice(scope.pathname.length);
  // The page itself, whatever its query: the cached index.html (a fragment never reaches here).
  const key = request.mode === "navigate" || name === "" ? "index.html" : name;
  if (!ASSETS.includes(key)) return;
  event.respondWith(
    caches.open(CACHE)
      .then((cache) => cache.match(key))
      .then((hit) => hit ?? fetch(request)),
  );
});
