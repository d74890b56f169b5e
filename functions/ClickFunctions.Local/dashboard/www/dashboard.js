// The dashboard reads only the public query API (docs/query-api.md), with the API key the user signs in with.
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const session = { advertiser: sessionStorage.getItem('cf.advertiser'), key: sessionStorage.getItem('cf.key') };
  let chart = null;

  const zones = (Intl.supportedValuesOf ? Intl.supportedValuesOf('timeZone') : []).filter((z) => z !== 'UTC');
  const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  for (const z of ['UTC', ...zones]) {
    const o = document.createElement('option');
    o.value = o.textContent = z;
    $('tz').appendChild(o);
  }
  $('tz').value = localZone;

  async function api(path) {
    const response = await fetch(path, { headers: { Authorization: `Bearer ${session.key}`, Accept: 'application/json' } });
    if (response.status === 401) { throw new Error('The API key was not accepted.'); }
    if (response.status === 429) { throw new Error(`Too many requests; retry in ${response.headers.get('Retry-After') || 'a few'} s.`); }
    if (response.status === 404) { return null; }
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new Error(problem.detail || `HTTP ${response.status}`);
    }
    return response.json();
  }

  // Offset of a time zone from UTC at an instant, in minutes (positive east of Greenwich).
  function zoneOffset(instant, zone) {
    const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    }).formatToParts(instant).map((p) => [p.type, p.value]));
    const asUtc = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
    return Math.round((asUtc - instant.getTime()) / 60000);
  }

  // Midnight today in the zone, as a UTC instant floored to the hour (the API's hour buckets are UTC).
  function startOfToday(zone) {
    const now = new Date();
    const offset = zoneOffset(now, zone);
    const local = new Date(now.getTime() + offset * 60000);
    const midnightLocal = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate());
    return new Date(Math.floor((midnightLocal - offset * 60000) / 3600000) * 3600000);
  }

  const hour = 3600000;
  const floorHour = (t) => new Date(Math.floor(t / hour) * hour);
  const ceilHour = (t) => new Date(Math.ceil(t / hour) * hour);
  const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

  function range() {
    const zone = $('tz').value;
    const now = Date.now();
    switch ($('preset').value) {
      case 'today': return { from: startOfToday(zone), to: ceilHour(now + 1) };
      case '24h': return { from: floorHour(now - 24 * hour), to: ceilHour(now + 1) };
      case '7d': return { from: floorHour(now - 7 * 24 * hour), to: ceilHour(now + 1) };
      case '30d': return { from: floorHour(now - 30 * 24 * hour), to: ceilHour(now + 1) };
      default: {
        // datetime-local values are wall times in the chosen zone.
        const wall = (v) => { const t = Date.parse(`${v}:00Z`); return new Date(t - zoneOffset(new Date(t), zone) * 60000); };
        return { from: floorHour(wall($('from').value).getTime()), to: ceilHour(wall($('to').value).getTime()) };
      }
    }
  }

  function format(ms, zone) {
    return new Intl.DateTimeFormat(undefined, { timeZone: zone, month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }).format(new Date(ms));
  }

  function draw(clicks, from, to, zone) {
    const buckets = new Map((clicks ? clicks.buckets : []).map((b) => [Date.parse(b.start), b]));
    const xs = [], valid = [], invalid = [];
    for (let t = from.getTime(); t < to.getTime(); t += hour) {
      const b = buckets.get(t);
      xs.push(t / 1000);
      valid.push(b ? b.clicks : 0);
      invalid.push(b ? b.invalidClicks : 0);
    }
    const options = {
      width: Math.min(1000, document.body.clientWidth - 40), height: 300,
      tzDate: (s) => uPlot.tzDate(new Date(s * 1000), zone),
      series: [{ value: (u, v) => (v == null ? '' : format(v * 1000, zone)) },
        { label: 'Valid', stroke: '#1f6feb', width: 2, fill: 'rgba(31,111,235,.1)' },
        { label: 'Invalid', stroke: '#d1242f', width: 2 }],
      axes: [{}, { label: 'clicks per hour' }],
      scales: { y: { range: (u, min, max) => [0, Math.max(1, max)] } },
    };
    if (chart) { chart.destroy(); }
    chart = new uPlot(options, [xs, valid, invalid], $('chart'));
  }

  async function load() {
    $('error').textContent = '';
    const zone = $('tz').value;
    let { from, to } = range();
    if (!(from < to)) { $('error').textContent = 'The range is empty.'; return; }
    const q = `from=${iso(from)}&to=${iso(to)}`;
    try {
      const listing = await api(`/api/advertisers/${encodeURIComponent(session.advertiser)}/ads?${q}`);
      const ads = listing ? listing.ads : [];
      const select = $('ad');
      const chosen = select.value;
      const ids = [...new Set(ads.map((a) => a.adId))];
      if (chosen && !ids.includes(chosen)) { ids.push(chosen); }
      select.replaceChildren(...ids.map((id) => Object.assign(document.createElement('option'), { value: id, textContent: id })));
      if (chosen) { select.value = chosen; }
      const tbody = $('top').querySelector('tbody');
      tbody.replaceChildren(...ads.slice(0, 10).map((a) => {
        const tr = document.createElement('tr');
        for (const [v, n] of [[a.adId], [a.campaignId], [a.clicks, 1], [a.invalidClicks, 1]]) {
          const td = document.createElement('td');
          td.textContent = v;
          if (n) { td.className = 'n'; }
          tr.appendChild(td);
        }
        return tr;
      }));
      const ad = select.value;
      const clicks = ad ? await api(`/api/ads/${encodeURIComponent(ad)}/clicks?${q}&granularity=hour`) : null;
      $('total-valid').textContent = clicks ? clicks.total.clicks : 0;
      $('total-invalid').textContent = clicks ? clicks.total.invalidClicks : 0;
      $('range-label').textContent = `${format(from.getTime(), zone)} – ${format(to.getTime(), zone)} (${zone})`;
      draw(clicks, from, to, zone);
      document.body.dataset.loaded = `${ad || ''}|${q}`;
    } catch (e) {
      $('error').textContent = e.message;
    }
  }

  function show() {
    const signedIn = !!session.key;
    $('signin').hidden = signedIn;
    $('board').hidden = !signedIn;
    $('signout').hidden = !signedIn;
    $('who').textContent = signedIn ? session.advertiser : '';
    if (signedIn) { load(); }
  }

  $('signin').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    session.advertiser = $('advertiser').value.trim();
    session.key = $('key').value;
    const now = floorHour(Date.now());
    try {
      const probe = await api(`/api/advertisers/${encodeURIComponent(session.advertiser)}/ads?from=${iso(now)}&to=${iso(new Date(now.getTime() + hour))}`);
      if (probe === null) { throw new Error('This key does not belong to that advertiser.'); }
    } catch (e) {
      session.key = null;
      $('signin-error').textContent = e.message;
      return;
    }
    sessionStorage.setItem('cf.advertiser', session.advertiser);
    sessionStorage.setItem('cf.key', session.key);
    $('signin-error').textContent = '';
    show();
  });
  $('signout').addEventListener('click', () => { sessionStorage.clear(); session.key = null; show(); });
  $('preset').addEventListener('change', () => { $('custom').hidden = $('preset').value !== 'custom'; if ($('preset').value !== 'custom') { load(); } });
  for (const id of ['ad', 'tz', 'from', 'to']) { $(id).addEventListener('change', load); }
  $('refresh').addEventListener('click', load);
  show();
})();
