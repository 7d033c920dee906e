// The inspection page on an inspector's phone. Assigned sites and their
// checklists are kept in IndexedDB; what the inspector records (findings and
// their photos) waits there too, in the outbox (outbox.js), until the
// network is back.
// Every finding and photo carries an id made here, so sending again after a
// lost reply or a closed tab stores nothing twice.
'use strict';
(() => {
  const root = document.getElementById('inspect');
  if (!root || !window.indexedDB || !window.WenmingOutbox) return;
  const T = JSON.parse(root.dataset.strings);
  const t = (k) => T[k] || k;
  const csrf = root.dataset.csrf;
  const user = root.dataset.user;
  const view = document.getElementById('view');
  const queue = document.getElementById('queue');
  const syncButton = document.getElementById('sync-now');
  const VICINITY_M = 300;

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js', { scope: '/inspect' }).catch(() => {});
  }

  // ------------------------------------------------------------ storage

  const kept = WenmingOutbox('wenming-inspect', 1, (d) => {
    d.createObjectStore('assignments', { keyPath: 'key' });
    d.createObjectStore('outbox', { keyPath: 'id' });
    d.createObjectStore('photos', { keyPath: 'id' });
  });
  const { run, req, all } = kept;

  async function mine(store) {
    return (await all(store)).filter((x) => x.user === user);
  }

  // ------------------------------------------------------------ assignments

  async function refreshAssignments() {
    try {
      const r = await fetch('/api/v1/assignments', { credentials: 'same-origin' });
      if (!r.ok) return;
      const list = await r.json();
      await run(['assignments'], 'readwrite', async (tx) => {
        const s = tx.objectStore('assignments');
        const old = await req(s.getAll());
        for (const a of old) if (a.user === user) s.delete(a.key);
        for (const a of list) {
          s.put({ key: `${user}/${a.round.id}/${a.site.site_id}`, user, ...a });
        }
      });
    } catch (_) {
      // Offline: the kept list stands.
    }
  }

  // ------------------------------------------------------------ the queue

  async function showQueue() {
    const out = await mine('outbox');
    const findings = out.reduce((n, e) => n + e.findings.length, 0);
    const photos = out.reduce((n, e) => n + e.findings.reduce((m, f) => m + f.photo_ids.length, 0), 0);
    const net = navigator.onLine ? '' : `${t('inspect.offline')} · `;
    queue.textContent = findings > 0
      ? `${net}${t('inspect.waiting').replace('{findings}', findings).replace('{photos}', photos)}`
      : `${net}${t('inspect.nothing_waiting')}`;
    queue.classList.toggle('pending', findings > 0);
    queue.hidden = false;
    syncButton.hidden = findings === 0 || !navigator.onLine;
  }

  async function sync() {
    try {
      await kept.drain(await mine('outbox'), sendEntry);
    } finally {
      await showQueue();
      await render();
    }
  }

  // Sends one site's findings: photos first (each under its own id), then
  // the findings naming them. False when the network went away.
  async function sendEntry(entry) {
    try {
      for (const f of entry.findings) {
        for (const pid of f.photo_ids) {
          const p = await run(['photos'], 'readonly', (tx) => req(tx.objectStore('photos').get(pid)));
          if (!p || p.sent) continue;
          const r = await fetch(`/api/v1/photos?client_id=${pid}`, {
            method: 'POST',
            credentials: 'same-origin',
            headers: { 'x-csrf-token': csrf, 'content-type': 'application/octet-stream' },
            body: p.blob,
          });
          if (!r.ok) return failed(entry, await r.text());
          p.sent = true;
          await run(['photos'], 'readwrite', (tx) => { tx.objectStore('photos').put(p); });
        }
      }
      const body = {
        findings: entry.findings.map((f) => ({
          id: f.id,
          standard_id: f.standard_id,
          recorded: f.recorded,
          note: f.note,
          photo_ids: f.photo_ids,
          observed_at: f.observed_at,
          lon: entry.lon,
          lat: entry.lat,
        })),
      };
      const r = await fetch(`/api/v1/rounds/${entry.round_id}/sites/${entry.site_id}/findings`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'x-csrf-token': csrf, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!r.ok) return failed(entry, await r.text());
      await run(['outbox', 'photos', 'assignments'], 'readwrite', async (tx) => {
        tx.objectStore('outbox').delete(entry.id);
        for (const f of entry.findings) for (const pid of f.photo_ids) tx.objectStore('photos').delete(pid);
        const s = tx.objectStore('assignments');
        const a = await req(s.get(`${user}/${entry.round_id}/${entry.site_id}`));
        if (a) {
          a.site.inspected_at = new Date().toISOString();
          s.put(a);
        }
      });
      return true;
    } catch (_) {
      return false;
    }
  }

  // Refused by the server: kept, with the reason shown, for the inspector
  // to look at; the rest of the queue goes on.
  async function failed(entry, text) {
    entry.error = kept.reason(text);
    await run(['outbox'], 'readwrite', (tx) => { tx.objectStore('outbox').put(entry); });
    return true;
  }

  // ------------------------------------------------------------ pages

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children) if (c) e.append(c);
    return e;
  }

  // Renders overlap (start-up, a sync finishing, the inspector tapping a
  // site); only the newest may draw, or a list read before the tap would
  // replace the checklist the tap opened.
  let drawing = 0;

  async function render() {
    const mineTurn = ++drawing;
    const hash = decodeURIComponent(location.hash.slice(1));
    const assignments = await mine('assignments');
    const outbox = await mine('outbox');
    if (mineTurn !== drawing) return;
    if (hash) {
      const [roundId, siteId] = hash.split('/');
      const a = assignments.find((x) => x.round.id === roundId && x.site.site_id === siteId);
      if (a) return renderChecklist(a);
    }
    renderList(assignments, outbox);
  }

  // The fixes to verify are the server's; they stand below the site list
  // and give way to a checklist.
  const toVerify = document.getElementById('to-verify');

  function renderList(assignments, outbox) {
    if (toVerify) toVerify.hidden = false;
    const list = el('ul', { class: 'assignments' });
    for (const a of assignments) {
      const queued = outbox.find((e) => e.round_id === a.round.id && e.site_id === a.site.site_id);
      const status = queued
        ? (queued.error
          ? el('span', { class: 'status bad', text: `⚠ ${t('inspect.needs_attention')}: ${queued.error}` })
          : el('span', { class: 'status pending', text: `↻ ${t('inspect.queued')}` }))
        : (a.site.inspected_at ? el('span', { class: 'status on', text: `✓ ${t('inspect.done')}` }) : null);
      list.append(el('li', {},
        el('a', { href: `#${a.round.id}/${a.site.site_id}` }, el('strong', { text: a.site.site_name })),
        el('span', { class: 'muted', text: ` ${a.site.type_name} · ${a.site.region_name} · ${a.round.name}` }),
        status ? ' ' : null, status));
    }
    view.replaceChildren(assignments.length ? list : el('p', { class: 'muted', text: t('inspect.no_assignments') }));
  }

  function ruleHint(o) {
    if (o.kind === 'at_least') return t('inspect.at_least').replace('{n}', o.count);
    if (o.kind === 'percent') return t('inspect.share_at_least').replace('{p}', o.at_least);
    return '';
  }

  function renderChecklist(a) {
    const form = el('form', { class: 'checklist', novalidate: true });
    form.append(el('p', { class: 'crumbs' }, el('a', { href: '#', text: `← ${t('inspect.back')}` })));
    form.append(el('h2', { text: a.site.site_name }));
    form.append(el('p', { class: 'muted', text: [a.site.type_name, a.site.region_name, a.address].filter(Boolean).join(' · ') }));
    a.checklist.forEach((item, i) => {
      const name = `r${i}`;
      const box = el('fieldset', { class: 'check-item', 'data-standard': item.standard_id, 'data-kind': item.observation.kind });
      box.append(el('legend', {}, el('strong', { text: item.code }), ` ${item.title}`));
      const hint = ruleHint(item.observation);
      if (hint) box.append(el('p', { class: 'hint', text: hint }));
      const choices = el('div', { class: 'choices' });
      const radio = (value, label) => el('label', { class: `choice ${value}` },
        el('input', { type: 'radio', name, value }), ` ${label}`);
      if (item.observation.kind === 'pass_fail') {
        choices.append(radio('pass', t('finding.pass')), radio('fail', t('finding.fail')));
      } else if (item.observation.kind === 'at_least') {
        choices.append(el('label', {}, `${t('inspect.count')} `, el('input', { type: 'number', min: 0, inputmode: 'numeric', name: `${name}-count` })));
      } else {
        choices.append(
          el('label', {}, `${t('inspect.observed')} `, el('input', { type: 'number', min: 0, inputmode: 'numeric', name: `${name}-observed` })),
          el('label', {}, ` ${t('inspect.of')} `, el('input', { type: 'number', min: 1, inputmode: 'numeric', name: `${name}-of` })),
        );
      }
      choices.append(radio('na', t('finding.na')));
      box.append(choices);
      // The camera is a big button; the count of photos taken shows on it.
      const picked = el('span', { class: 'picked' });
      const camera = el('input', { type: 'file', accept: 'image/*', capture: 'environment', multiple: true, name: `${name}-photos` });
      camera.addEventListener('change', () => {
        picked.textContent = camera.files.length ? ` · ${t('inspect.photos_taken').replace('{n}', camera.files.length)}` : '';
      });
      box.append(el('label', { class: 'photo-input' }, `📷 ${t('inspect.photos')}`, picked, camera));
      box.append(el('label', {}, `${t('inspect.note')} `, el('input', { type: 'text', maxlength: 500, name: `${name}-note` })));
      box.append(el('p', { class: 'error', hidden: true }));
      form.append(box);
    });
    const where = el('p', { class: 'hint', id: 'where' });
    form.append(where);
    form.append(el('div', { class: 'buttons' }, el('button', { type: 'submit', class: 'primary', text: t('inspect.save') })));
    form.addEventListener('submit', (ev) => { ev.preventDefault(); save(a, form, where); });
    if (toVerify) toVerify.hidden = true;
    view.replaceChildren(form);
    window.scrollTo(0, 0);
  }

  function position() {
    return new Promise((resolve) => {
      if (!navigator.geolocation) return resolve(null);
      navigator.geolocation.getCurrentPosition(
        (p) => resolve({ lon: p.coords.longitude, lat: p.coords.latitude }),
        () => resolve(null),
        { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 },
      );
    });
  }

  function metres(a, b) {
    const r = 6371008.8;
    const rad = (d) => (d * Math.PI) / 180;
    const dlat = rad(b.lat - a.lat);
    const dlon = rad(b.lon - a.lon);
    const h = Math.sin(dlat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dlon / 2) ** 2;
    return 2 * r * Math.asin(Math.sqrt(h));
  }

  // Reads the form into findings, or marks what is missing.
  function read(a, form) {
    const findings = [];
    let ok = true;
    a.checklist.forEach((item, i) => {
      const box = form.querySelectorAll('fieldset.check-item')[i];
      const err = box.querySelector('.error');
      err.hidden = true;
      const name = `r${i}`;
      const picked = form.querySelector(`input[name="${name}"]:checked`);
      const files = Array.from(form.querySelector(`input[name="${name}-photos"]`).files);
      let recorded = null;
      let fails = false;
      if (picked && picked.value === 'na') {
        recorded = { result: 'not_applicable' };
      } else if (item.observation.kind === 'pass_fail') {
        if (picked) {
          recorded = { result: picked.value };
          fails = picked.value === 'fail';
        }
      } else if (item.observation.kind === 'at_least') {
        const v = form.querySelector(`input[name="${name}-count"]`).value;
        if (v !== '') {
          recorded = { result: 'count', count: Number(v) };
          fails = Number(v) < item.observation.count;
        }
      } else {
        const o = form.querySelector(`input[name="${name}-observed"]`).value;
        const of = form.querySelector(`input[name="${name}-of"]`).value;
        if (o !== '' && of !== '') {
          recorded = { result: 'share', observed: Number(o), of: Number(of) };
          fails = Number(o) * 100 < item.observation.at_least * Number(of);
        }
      }
      if (!recorded) {
        err.textContent = `⚠ ${t('inspect.choose_result')}`;
        err.hidden = false;
        ok = false;
        return;
      }
      if (fails && files.length === 0) {
        err.textContent = `⚠ ${t('inspect.photo_needed')}`;
        err.hidden = false;
        ok = false;
        return;
      }
      const note = form.querySelector(`input[name="${name}-note"]`).value.trim();
      findings.push({ item, recorded, files, note: note || null });
    });
    return ok ? findings : null;
  }

  async function save(a, form, where) {
    const read_ = read(a, form);
    if (!read_) {
      const first = form.querySelector('.error:not([hidden])');
      if (first) first.scrollIntoView({ block: 'center' });
      return;
    }
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    const here = await position();
    if (here) {
      const d = metres(here, { lon: a.lon, lat: a.lat });
      if (d > VICINITY_M) where.textContent = `⚠ ${t('inspect.far').replace('{m}', Math.round(d))}`;
    }
    const now = new Date().toISOString();
    const entry = {
      id: kept.id(),
      user,
      round_id: a.round.id,
      site_id: a.site.site_id,
      lon: here ? here.lon : null,
      lat: here ? here.lat : null,
      error: null,
      findings: [],
    };
    const photos = [];
    for (const f of read_) {
      const ids = [];
      for (const file of f.files) {
        const id = kept.id();
        ids.push(id);
        photos.push({ id, user, blob: file, sent: false });
      }
      entry.findings.push({
        id: kept.id(),
        standard_id: f.item.standard_id,
        recorded: f.recorded,
        note: f.note,
        photo_ids: ids,
        observed_at: now,
      });
    }
    // The findings and their photos are kept together or not at all.
    await run(['outbox', 'photos'], 'readwrite', (tx) => {
      for (const p of photos) tx.objectStore('photos').put(p);
      tx.objectStore('outbox').put(entry);
    });
    location.hash = '';
    await showQueue();
    await render();
    sync();
  }

  window.addEventListener('hashchange', render);
  window.addEventListener('online', () => { refreshAssignments().then(sync); });
  window.addEventListener('offline', showQueue);
  syncButton.addEventListener('click', sync);

  (async () => {
    await refreshAssignments();
    await showQueue();
    await render();
    sync();
  })();
})();
