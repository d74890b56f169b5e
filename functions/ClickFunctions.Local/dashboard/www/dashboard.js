// The dashboard reads only the public query API (docs/query-api.md), with the API key the user signs in with.
// What it shows and how it refreshes: docs/decisions/083-dashboard-static-pages-over-the-public-api.md.
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  // key: an API key the user typed (the local host); platform: App Service authentication's sign-in session
  // (Azure), whose cookie goes with every same-origin request and which the API maps to an advertiser.
  const session = { key: sessionStorage.getItem('cf.key'), platform: false, me: null };
  const authorized = () => !!(session.key || session.platform);
  const hour = 3600000;
  const day = 24 * hour;
  // At most this many ads' series are summed for a campaign or "all ads": each is one request per refresh, and a
  // refresh a second of 1 listing + 1 breakdown + 10 ads stays under the API's default 20 requests/s per key.
  const maxSummedAds = 10;
  const refreshEvery = 1000;
  let chart = null;
  let chartShape = '';

  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const zones = new Set(['UTC', browserZone, ...(Intl.supportedValuesOf ? Intl.supportedValuesOf('timeZone') : [])]);
  function setZones(preferred) {
    if (preferred) { zones.add(preferred); }
    $('tz').replaceChildren(...[...zones].map((z) => Object.assign(document.createElement('option'), { value: z, textContent: z })));
    $('tz').value = preferred || browserZone;
  }

  class ApiError extends Error {
    constructor(message, retryAfter) { super(message); this.retryAfter = retryAfter; }
  }

  async function api(path) {
    const headers = session.key ? { Authorization: `Bearer ${session.key}`, Accept: 'application/json' } : { Accept: 'application/json' };
    const response = await fetch(path, { headers, credentials: 'same-origin' });
    if (response.status === 401) { throw new ApiError(session.key ? 'The API key was not accepted.' : 'This sign-in is not mapped to an advertiser.'); }
    if (response.status === 429) {
      const after = Number(response.headers.get('Retry-After')) || 1;
      throw new ApiError(`Too many requests; retrying in ${after} s.`, after);
    }
    if (response.status === 404) { return null; }
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new ApiError(problem.detail || `HTTP ${response.status}`);
    }
    return response.json();
  }

  // --- Wall time in a zone (Intl only; the API does the authoritative conversion from tz=) ---

  function wall(ms, zone) {
    const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    }).formatToParts(new Date(ms)).map((x) => [x.type, +x.value]));
    return { y: p.year, m: p.month, d: p.day, h: p.hour, mi: p.minute, s: p.second };
  }
  // Minutes east of UTC at an instant.
  const offset = (ms, zone) => { const w = wall(ms, zone); return Math.round((Date.UTC(w.y, w.m - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000) / 60000); };
  // The instant a wall time names in the zone (the later offset at a repeated time; a skipped time moves forward).
  function instant(y, m, d, h, zone) {
    const asUtc = Date.UTC(y, m - 1, d, h || 0);
    const first = asUtc - offset(asUtc, zone) * 60000;
    return asUtc - offset(first, zone) * 60000;
  }
  const pad = (n) => String(n).padStart(2, '0');
  // A calendar date shifted by n days (or months), as {y, m, d}.
  const addDays = (c, n) => { const t = new Date(Date.UTC(c.y, c.m - 1, c.d + n)); return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() }; };
  const addMonths = (c, n) => { const t = new Date(Date.UTC(c.y, c.m - 1 + n, 1)); return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: 1 }; };
  const dateText = (c) => `${c.y}-${pad(c.m)}-${pad(c.d)}`;
  const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  // Start of the zone's hour holding an instant (by its offset then, so a repeated hour of a DST fall-back is right).
  const hourStart = (ms, zone) => { const off = offset(ms, zone) * 60000; return Math.floor((ms + off) / hour) * hour - off; };

  // The range and granularity to ask for, with the bucket starts it spans (the chart's x values, zeros filled in).
  function range() {
    const zone = $('tz').value;
    const now = Date.now();
    const today = wall(now, zone);
    const hours = (fromMs, toMs) => ({ granularity: 'hour', from: iso(fromMs), to: iso(toMs), fromMs, toMs });
    const days = (first, end) => calendar('day', first, end, zone);
    switch ($('preset').value) {
      case 'today': return hours(instant(today.y, today.m, today.d, 0, zone), hourStart(now, zone) + hour);
      case '24h': { const to = hourStart(now, zone) + hour; return hours(to - 24 * hour, to); }
      case '7d': return days(addDays(today, -6), addDays(today, 1));
      case '30d': return days(addDays(today, -29), addDays(today, 1));
      default: return custom(zone);
    }
  }

  // Buckets of day, week or month between two calendar dates of the zone (end exclusive).
  function calendar(granularity, first, end, zone) {
    return { granularity, from: dateText(first), to: dateText(end), fromMs: instant(first.y, first.m, first.d, 0, zone), toMs: instant(end.y, end.m, end.d, 0, zone), first, end };
  }

  // A custom range: the granularity by its length (hour up to 2 days, day up to 92, week up to 2 years, then month),
  // the ends widened to whole buckets of it.
  function custom(zone) {
    const parse = (v) => { const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(v || ''); return m && { y: +m[1], m: +m[2], d: +m[3], h: +m[4], mi: +m[5] }; };
    const a = parse($('from').value), b = parse($('to').value);
    if (!a || !b) { return null; }
    const span = Date.UTC(b.y, b.m - 1, b.d, b.h, b.mi) - Date.UTC(a.y, a.m - 1, a.d, a.h, a.mi);
    if (span <= 0) { return null; }
    const up = new Date(Date.UTC(b.y, b.m - 1, b.d, b.h + (b.mi > 0 ? 1 : 0)));
    const bEnd = { y: up.getUTCFullYear(), m: up.getUTCMonth() + 1, d: up.getUTCDate(), h: up.getUTCHours() };
    if (span <= 2 * day) {
      const fromMs = instant(a.y, a.m, a.d, a.h, zone);
      const toMs = instant(bEnd.y, bEnd.m, bEnd.d, bEnd.h, zone);
      // As instants, like the presets: a wall time a DST change skips or repeats would be refused or ambiguous.
      return { granularity: 'hour', from: iso(fromMs), to: iso(toMs), fromMs, toMs };
    }
    const endDay = b.h > 0 || b.mi > 0 ? addDays(b, 1) : { y: b.y, m: b.m, d: b.d };
    if (span <= 92 * day) { return calendar('day', a, endDay, zone); }
    if (span <= 732 * day) {
      const monday = (c) => addDays(c, -((new Date(Date.UTC(c.y, c.m - 1, c.d)).getUTCDay() + 6) % 7));
      const endMonday = monday(endDay);
      return calendar('week', monday(a), dateText(endMonday) === dateText(endDay) ? endDay : addDays(endMonday, 7), zone);
    }
    return calendar('month', { y: a.y, m: a.m, d: 1 }, endDay.d === 1 ? endDay : addMonths(endDay, 1), zone);
  }

  // Every bucket start of the range as an instant (ms), from the zone's calendar.
  function starts(r, zone) {
    const xs = [];
    if (r.granularity === 'hour') {
      // Whole-hour DST shifts keep every hour boundary an hour apart; a bucket the API starts elsewhere is added from its answer.
      for (let t = r.fromMs; t < r.toMs; t += hour) { xs.push(t); }
      return xs;
    }
    const step = { day: (c) => addDays(c, 1), week: (c) => addDays(c, 7), month: (c) => addMonths(c, 1) }[r.granularity];
    for (let c = r.first; dateText(c) < dateText(r.end); c = step(c)) { xs.push(instant(c.y, c.m, c.d, 0, zone)); }
    return xs;
  }

  function format(ms, zone) {
    return new Intl.DateTimeFormat(undefined, { timeZone: zone, year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }).format(new Date(ms));
  }

  // --- Rendering ---

  function cells(tbody, rows) {
    tbody.replaceChildren(...rows.map(({ values, attrs }) => {
      const tr = document.createElement('tr');
      Object.assign(tr.dataset, attrs || {});
      values.forEach((v, i) => {
        const td = document.createElement('td');
        td.textContent = v;
        if (i > 0 && typeof v === 'number') { td.className = 'n'; }
        tr.appendChild(td);
      });
      return tr;
    }));
  }

  // Replaces a select's options only when they changed, so a refresh does not close an open picker.
  function options(select, first, values) {
    const chosen = select.value;
    const all = [...values];
    if (chosen && !all.includes(chosen)) { all.push(chosen); }
    const wanted = ['', ...all].join('\n');
    if ([...select.options].map((o) => o.value).join('\n') !== wanted || select.options[0].textContent !== first) {
      select.replaceChildren(Object.assign(document.createElement('option'), { value: '', textContent: first }),
        ...all.map((v) => Object.assign(document.createElement('option'), { value: v, textContent: v })));
      select.value = chosen;
    }
  }

  function draw(xs, valid, invalid, granularity, zone) {
    const width = Math.max(320, Math.min(1100, document.body.clientWidth - 40));
    const shape = `${zone}|${granularity}|${width}`;
    const data = [xs.map((t) => t / 1000), valid, invalid];
    if (chart && shape === chartShape) { chart.setData(data); return; }
    if (chart) { chart.destroy(); }
    chartShape = shape;
    chart = new uPlot({
      width, height: 300,
      tzDate: (s) => uPlot.tzDate(new Date(s * 1000), zone),
      series: [{ value: (u, v) => (v == null ? '' : format(v * 1000, zone)) },
        { label: 'Valid', stroke: '#1f6feb', width: 2, fill: 'rgba(31,111,235,.1)', points: { show: xs.length <= 60 } },
        { label: 'Invalid', stroke: '#d1242f', width: 2, points: { show: xs.length <= 60 } }],
      axes: [{}, { label: `clicks per ${granularity}` }],
      scales: { y: { range: (u, min, max) => [0, Math.max(1, max)] } },
    }, data, $('chart'));
  }

  // --- One refresh: listing, the chosen ads' series (summed), the breakdown ---

  async function load() {
    const zone = $('tz').value;
    const r = range();
    if (!r) { throw new ApiError('Choose a custom range whose start is before its end.'); }
    const me = session.me.advertiserId;
    const q = `from=${encodeURIComponent(r.from)}&to=${encodeURIComponent(r.to)}&tz=${encodeURIComponent(zone)}`;
    const listing = await api(`/api/advertisers/${encodeURIComponent(me)}/ads?from=${encodeURIComponent(iso(r.fromMs))}&to=${encodeURIComponent(iso(r.toMs))}&limit=1000`);
    const entries = listing ? listing.ads : [];
    options($('campaign'), 'All campaigns', [...new Set(entries.map((a) => a.campaignId))].sort());
    const campaign = $('campaign').value;
    const inCampaign = campaign ? entries.filter((a) => a.campaignId === campaign) : entries;
    const adIds = [...new Set(inCampaign.map((a) => a.adId))];
    options($('ad'), campaign ? 'All ads of the campaign' : 'All ads', adIds);
    const ad = $('ad').value;
    cells($('top').querySelector('tbody'), inCampaign.slice(0, 10).map((a) => ({ values: [a.adId, a.campaignId, a.clicks, a.invalidClicks] })));

    // The ads whose series are summed: the chosen one, or the campaign's (or all) ads with most clicks, capped.
    const summed = ad ? [ad] : adIds.slice(0, maxSummedAds);
    const notes = [];
    if (!ad && adIds.length > maxSummedAds) {
      notes.push(`Showing the sum of the ${maxSummedAds} ads with most valid clicks of ${adIds.length}; pick an ad for the others.`);
    }
    const shared = campaign ? summed.filter((id) => entries.some((a) => a.adId === id && a.campaignId !== campaign)) : [];
    if (shared.length) {
      notes.push(`${shared.join(', ')} also ran under other campaigns; the API counts an ad's clicks across campaigns, so they are included.`);
    }
    const by = $('by').value;
    const breakdownPath = ad ? `/api/ads/${encodeURIComponent(ad)}/breakdown?by=${by}&${q}`
      : !campaign ? `/api/advertisers/${encodeURIComponent(me)}/breakdown?by=${by}&${q}` : null;
    // The series and the breakdown in parallel (one refresh's requests; refreshes themselves never overlap).
    const [breakdown, ...series] = await Promise.all([breakdownPath ? api(breakdownPath) : null,
      ...summed.map((id) => api(`/api/ads/${encodeURIComponent(id)}/clicks?${q}&granularity=${r.granularity}`))]);

    // Everything fetched: render in one go, so the page never shows half of one refresh.
    const total = { clicks: 0, invalidClicks: 0, invalidByReason: {} };
    const byStart = new Map();
    for (const s of series.filter(Boolean)) {
      total.clicks += s.total.clicks;
      total.invalidClicks += s.total.invalidClicks;
      for (const [reason, n] of Object.entries(s.total.invalidByReason)) { total.invalidByReason[reason] = (total.invalidByReason[reason] || 0) + n; }
      for (const b of s.buckets) {
        const t = Date.parse(b.start);
        const sum = byStart.get(t) || { clicks: 0, invalidClicks: 0 };
        sum.clicks += b.clicks;
        sum.invalidClicks += b.invalidClicks;
        byStart.set(t, sum);
      }
    }
    const xs = [...new Set([...starts(r, zone), ...byStart.keys()])].sort((a, b) => a - b);
    $('total-valid').textContent = total.clicks;
    $('total-invalid').textContent = total.invalidClicks;
    $('range-label').textContent = `${format(r.fromMs, zone)} – ${format(r.toMs, zone)} (${zone}, by ${r.granularity})`;
    $('note').textContent = notes.join(' ');
    $('note').hidden = notes.length === 0;
    cells($('reasons').querySelector('tbody'), Object.entries(total.invalidByReason)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([reason, n]) => ({ values: [reason, n], attrs: { reason } })));
    $('breakdown-note').hidden = !!breakdownPath;
    $('breakdown-note').textContent = breakdownPath ? '' : 'The API breaks down one ad or the whole advertiser, not a campaign: pick an ad of the campaign.';
    cells($('breakdown').querySelector('tbody'), (breakdown ? breakdown.rows : []).map((row) => ({ values: [row.value, row.clicks, row.invalidClicks], attrs: { value: row.value } })));
    draw(xs, xs.map((t) => (byStart.get(t) || { clicks: 0 }).clicks), xs.map((t) => (byStart.get(t) || { invalidClicks: 0 }).invalidClicks), r.granularity, zone);
    // What this render was made from, for anyone (the tests) who wants to ask the API the same.
    document.body.dataset.loaded = JSON.stringify({ ads: summed, query: q, granularity: r.granularity, breakdown: breakdownPath });
    document.body.dataset.loads = String(Number(document.body.dataset.loads || 0) + 1);
  }

  // --- Live refresh: one refresh at a time, the next a second after the last one started, none while hidden ---

  const live = { running: false, again: false, timer: null };
  // The refresh loop's state, on <body> for anyone watching (running, scheduled, paused while hidden, stopped).
  const state = (name) => {
    document.body.dataset.refresh = name;
    if (name === 'paused') { $('live').textContent = 'Paused while the tab is hidden'; }
  };
  function refresh() {
    clearTimeout(live.timer);
    live.timer = null;
    if (live.running) { live.again = true; return; }
    run();
  }
  async function run() {
    live.running = true;
    live.timer = null;
    state('running');
    const started = performance.now();
    let wait = refreshEvery;
    try {
      await load();
      $('error').textContent = '';
      $('live').textContent = `Live · updated ${new Date().toLocaleTimeString(undefined, { timeZone: $('tz').value })}`;
    } catch (e) {
      $('error').textContent = e.message;
      if (e.retryAfter) { wait = e.retryAfter * 1000; }
    }
    live.running = false;
    if (!authorized()) { state('stopped'); return; }
    if (live.again) { live.again = false; run(); return; }
    if (document.visibilityState === 'visible') {
      live.timer = setTimeout(run, Math.max(0, wait - (performance.now() - started)));
      state('scheduled');
    } else {
      state('paused');
    }
  }
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') {
      if (authorized() && session.me && !live.running && !live.timer) { run(); }
    } else if (!live.running) {
      // A refresh in flight finishes and then sees the tab hidden; a scheduled one is dropped.
      clearTimeout(live.timer);
      live.timer = null;
      if (authorized()) { state('paused'); }
    }
  });

  // --- Sign-in: the key alone; /api/me says whose it is and its zone ---

  async function signIn(key) {
    session.key = key;
    try {
      session.me = await api('/api/me');
      if (!session.me) { throw new ApiError('This host has no /api/me.'); }
    } catch (e) {
      session.key = null;
      session.me = null;
      sessionStorage.removeItem('cf.key');
      $('signin-error').textContent = e.message;
      show();
      return;
    }
    sessionStorage.setItem('cf.key', key);
    $('signin-error').textContent = '';
    setZones(session.me.timeZone);
    show();
  }

  function show() {
    const signedIn = !!(authorized() && session.me);
    $('signin').hidden = signedIn;
    $('board').hidden = !signedIn;
    $('signout').hidden = !signedIn;
    $('who').textContent = signedIn ? (session.me.name ? `${session.me.name} (${session.me.advertiserId})` : session.me.advertiserId) : '';
    if (signedIn) { refresh(); }
  }

  $('signin').addEventListener('submit', (ev) => { ev.preventDefault(); signIn($('key').value); });
  $('signout').addEventListener('click', () => {
    if (session.platform) {
      // The platform's session ends at its own logout endpoint.
      window.location.assign('/.auth/logout?post_logout_redirect_uri=/dashboard');
      return;
    }
    sessionStorage.clear();
    session.key = null;
    session.me = null;
    clearTimeout(live.timer);
    live.timer = null;
    state('stopped');
    show();
  });
  $('preset').addEventListener('change', () => {
    const isCustom = $('preset').value === 'custom';
    if (isCustom && !$('from').value) {
      const zone = $('tz').value, w = wall(Date.now(), zone), start = addDays(w, -1);
      $('from').value = `${dateText(start)}T${pad(w.h)}:00`;
      $('to').value = `${dateText(w)}T${pad(w.h)}:00`;
    }
    $('custom').hidden = !isCustom;
    refresh();
  });
  $('campaign').addEventListener('change', () => { $('ad').value = ''; refresh(); });
  for (const id of ['ad', 'tz', 'from', 'to', 'by']) { $(id).addEventListener('change', refresh); }
  // --- Sign-in with App Service authentication, where the page is served by the Functions app ---

  // 'none' unless the page was served behind App Service authentication (the Functions app marks it with a meta
  // tag), else whether the platform has a signed-in user (/.auth/me lists the identities of the session).
  async function platformState() {
    if (document.querySelector('meta[name="cf-sign-in"]')?.content !== 'app-service') { return 'none'; }
    let response;
    try { response = await fetch('/.auth/me', { credentials: 'same-origin', headers: { Accept: 'application/json' } }); } catch { return 'none'; }
    if (response.status === 404) { return 'none'; }
    if (!response.ok) { return 'signed-out'; }
    const identities = await response.json().catch(() => []);
    return Array.isArray(identities) && identities.length > 0 ? 'signed-in' : 'signed-out';
  }

  async function startWithPlatform() {
    const platform = await platformState();
    if (platform !== 'none') {
      // Behind App Service authentication a key alone is not enough (docs/query-api.md): the sign-in is the way in.
      $('key-signin').hidden = true;
      $('platform-signin').hidden = false;
    }
    if (platform === 'signed-in') {
      session.platform = true;
      try {
        session.me = await api('/api/me');
        if (!session.me) { throw new ApiError('This host has no /api/me.'); }
        setZones(session.me.timeZone);
      } catch (e) {
        session.platform = false;
        session.me = null;
        $('signin-error').textContent = e.message;
      }
    }
    show();
  }

  setZones(null);
  if (session.key) { signIn(session.key); } else { startWithPlatform(); }
})();
