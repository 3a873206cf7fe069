// The trust this desk keeps between visits: the anchor (with the display names of a genesis
// file) and the trust package, in IndexedDB, each with where it came from and when. Nothing here
// is trusted blindly: the page checks the package against the anchor every time it loads it,
// and shows the anchor's fingerprint for the operator to compare with the published one.

const DB_NAME = "lichen-scanner";
const DB_VERSION = 1;
const STORE = "trust";

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(mode, fn) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request?.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** The stored entry `key` ("anchor" or "package"), or null. */
export async function load(key) {
  try {
    return (await run("readonly", (s) => s.get(key))) ?? null;
  } catch {
    // No IndexedDB (a private window may refuse it): the page works, but forgets.
    return null;
  }
}

/** Stores `value` under `key`; false when this browser keeps nothing. */
export async function save(key, value) {
  try {
    await run("readwrite", (s) => s.put(value, key));
    return true;
  } catch {
    return false;
  }
}

export async function forget() {
  try {
    await run("readwrite", (s) => s.clear());
  } catch {
    // Nothing stored, nothing to clear.
  }
}
