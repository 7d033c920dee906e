// The interviewer's page on a phone: questionnaires and contacts taken on
// the street or at the door wait in the outbox (outbox.js) until the
// network is back, each under an id made here, so that a resend after a
// lost reply stores nothing twice. The page itself is kept by the service
// worker, so it opens without a network once it has been opened with one.
'use strict';
(() => {
  const root = document.getElementById('interview');
  if (!root || !window.indexedDB || !window.WenmingOutbox) return;
  const T = JSON.parse(root.dataset.strings);
  const t = (k) => T[k] || k;
  const csrf = root.dataset.csrf;
  const user = root.dataset.user;
  const wave = root.dataset.wave;
  const queue = document.getElementById('queue');
  const box = WenmingOutbox('wenming-interview', 1, (d) => {
    d.createObjectStore('outbox', { keyPath: 'id' });
  });

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js', { scope: '/surveys/waves/' }).catch(() => {});
    // This wave's page is kept now, while there is a network, so that it
    // opens without one (the worker keeps it fresh after that).
    if (window.caches) {
      caches.open(root.dataset.cache).then((c) => c.add(location.pathname)).catch(() => {});
    }
  }

  const mine = async () => (await box.all('outbox')).filter((e) => e.user === user && e.wave === wave);

  async function showQueue() {
    const out = await mine();
    const answers = out.filter((e) => e.kind === 'response').length;
    const contacts = out.length - answers;
    const refused = out.filter((e) => e.error);
    queue.textContent = '';
    const p = document.createElement('p');
    p.textContent = out.length === 0
      ? t('all_sent')
      : t('waiting').replace('{answers}', answers).replace('{contacts}', contacts);
    queue.className = out.length === 0 ? 'queue' : 'queue pending';
    queue.append(p);
    for (const e of refused) {
      const r = document.createElement('p');
      r.className = 'error';
      r.textContent = `${t('refused')} ${e.error}`;
      queue.append(r);
    }
  }

  async function send(entry) {
    if (entry.error) return true;
    const path = entry.kind === 'response' ? 'responses' : 'contacts';
    try {
      const r = await fetch(`/api/v1/waves/${wave}/${path}`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'x-csrf-token': csrf, 'content-type': 'application/json' },
        body: JSON.stringify(entry.body),
      });
      if (r.ok) {
        await box.run(['outbox'], 'readwrite', (tx) => { tx.objectStore('outbox').delete(entry.id); });
      } else if (r.status === 401 || r.status >= 500) {
        return false;
      } else {
        entry.error = box.reason(await r.text());
        await box.run(['outbox'], 'readwrite', (tx) => { tx.objectStore('outbox').put(entry); });
      }
      return true;
    } catch (_) {
      return false;
    }
  }

  async function sync() {
    await box.drain(await mine(), send);
    await showQueue();
  }

  const value = (form, name) => {
    const c = form.querySelector(`[name="${name}"]:checked`) || form.querySelector(`select[name="${name}"]`);
    return c ? c.value : '';
  };

  // The questionnaire as the API takes it; the required questions this
  // respondent is asked and left blank are marked, and nothing is queued.
  function read(form) {
    const answers = {};
    let missing = null;
    for (const fs of form.querySelectorAll('fieldset.question')) {
      fs.classList.remove('invalid');
      if (fs.hidden) continue;
      const code = fs.dataset.code;
      const name = `q.${code}`;
      let v;
      switch (fs.dataset.kind) {
        case 'single': v = value(form, name) || undefined; break;
        case 'multiple': {
          const cs = [...fs.querySelectorAll(`input[name="${name}"]:checked`)].map((x) => x.value);
          v = cs.length ? cs : undefined;
          break;
        }
        case 'scale5': { const s = value(form, name); v = s ? Number(s) : undefined; break; }
        case 'scale100': { const s = fs.querySelector('input').value.trim(); v = s ? Number(s) : undefined; break; }
        default: { const s = fs.querySelector('textarea').value.trim(); v = s || undefined; }
      }
      if (v === undefined) {
        if (fs.dataset.required === 'true') {
          fs.classList.add('invalid');
          missing = missing || fs;
        }
      } else {
        answers[code] = v;
      }
    }
    const who = {};
    for (const k of ['region_id', 'group', 'age_band', 'sex', 'channel']) {
      who[k] = value(form, k);
      const field = form.querySelector(`[name="${k}"]`).closest('.field');
      field.classList.toggle('invalid', !who[k]);
      if (!who[k]) missing = missing || field;
    }
    return { missing, body: { ...who, answers } };
  }

  async function queueEntry(kind, body) {
    const id = box.id();
    const entry = { id, user, wave, kind, body: { ...body, client_id: id } };
    await box.run(['outbox'], 'readwrite', (tx) => { tx.objectStore('outbox').put(entry); });
  }

  const form = document.querySelector('form.questionnaire');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const { missing, body } = read(form);
    if (missing) {
      missing.scrollIntoView({ block: 'center' });
      return;
    }
    await queueEntry('response', body);
    // Ready for the next respondent: the same community and channel.
    const keep = { region_id: body.region_id, channel: body.channel };
    form.reset();
    form.querySelector('select[name=region_id]').value = keep.region_id;
    const ch = form.querySelector(`input[name=channel][value="${keep.channel}"]`);
    if (ch) ch.checked = true;
    form.querySelector('input[name=group]').dispatchEvent(new Event('change'));
    window.scrollTo(0, 0);
    await showQueue();
    sync();
  });

  const contact = document.getElementById('contact-form');
  if (contact) {
    contact.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const region = contact.querySelector('select[name=region_id]').value;
      const d = contact.querySelector('input[name=disposition]:checked');
      contact.querySelector('select[name=region_id]').closest('.field').classList.toggle('invalid', !region);
      contact.querySelector('fieldset').classList.toggle('invalid', !d);
      if (!region || !d) return;
      await queueEntry('contact', { region_id: region, disposition: d.value });
      d.checked = false;
      await showQueue();
      sync();
    });
  }

  document.getElementById('sync-now').addEventListener('click', sync);
  window.addEventListener('online', sync);
  showQueue().then(sync);
})();
