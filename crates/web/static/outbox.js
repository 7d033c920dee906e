// The phone's outbox: what is recorded without a network waits in
// IndexedDB, each entry under an id made on the phone, and is sent when the
// network is back; sending again after a lost reply or a closed tab stores
// nothing twice, because the server knows the id. The inspection page and
// the interviewer's page share it.
'use strict';
window.WenmingOutbox = (name, version, upgrade) => {
  let dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const r = indexedDB.open(name, version);
        r.onupgradeneeded = () => upgrade(r.result);
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
    }
    return dbPromise;
  }
  async function run(stores, mode, fn) {
    const d = await db();
    return new Promise((resolve, reject) => {
      const tx = d.transaction(stores, mode);
      let out;
      Promise.resolve(fn(tx)).then((v) => { out = v; }, reject);
      tx.oncomplete = () => resolve(out);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }
  const req = (r) => new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const all = (store) => run([store], 'readonly', (tx) => req(tx.objectStore(store).getAll()));
  // Sends each entry in turn with `send` (true: done or refused and kept
  // with its reason; false: the network went away, try again later).
  let syncing = false;
  async function drain(entries, send) {
    if (syncing || !navigator.onLine) return;
    syncing = true;
    try {
      for (const e of entries) {
        if (!(await send(e))) break;
      }
    } finally {
      syncing = false;
    }
  }
  // A refusal's message from the API's error body, or its text.
  function reason(text) {
    try {
      return JSON.parse(text).errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    } catch (_) {
      return text;
    }
  }
  // Service workers need a secure context, where randomUUID is there.
  const id = () => crypto.randomUUID();
  return { run, req, all, drain, reason, id };
};
