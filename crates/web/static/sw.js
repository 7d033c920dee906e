// wenming's service worker: keeps the inspection page, the interviewer's
// pages of survey waves, their scripts and the style sheet so that they
// open without a network. Everything else goes to the network as usual;
// what is recorded waits in IndexedDB (see outbox.js), not here.
'use strict';
// The interviewer's page adds itself to this cache by name (data-cache in
// templates/surveys/entry.html): change both together.
const CACHE = 'wenming-offline-2';
const SHELL = ['/inspect', '/static/outbox.js', '/static/inspect.js', '/static/interview.js', '/static/app.js', '/static/style.css'];
const INTERVIEW = /^\/surveys\/waves\/[0-9a-f-]{36}\/interview$/;
const kept = (path) => SHELL.includes(path) || INTERVIEW.test(path);

self.addEventListener('install', (event) => {
  // One page the account may not open (an inspection page for a clerk)
  // must not keep the others from being kept.
  event.waitUntil(
    caches.open(CACHE)
      .then((c) => Promise.all(SHELL.map((u) => c.add(u).catch(() => {}))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin || !kept(url.pathname)) {
    return;
  }
  // Fresh when the network answers, kept copy when it does not.
  event.respondWith(
    fetch(req)
      .then((res) => {
        if (res.ok && !res.redirected) {
          const copy = res.clone();
          caches.open(CACHE).then((c) => c.put(url.pathname, copy));
        }
        return res;
      })
      .catch(() => caches.match(url.pathname).then((hit) => hit || Response.error())),
  );
});
