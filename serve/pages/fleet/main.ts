import type { ChannelRow, DeviceRow, FleetSnapshot } from '../../fleet/fleetLive.js';

/**
 * The live fleet dashboard: redraws from the snapshot the server pushes (server-sent events) whenever
 * a device, a release or the counters change. Actions, and off loopback the event stream too, send the
 * operator's token, kept in this page only; the server refuses them without it. Text goes in with textContent only: device ids and reasons
 * come from the field.
 */
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  className?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}

function ago(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '-';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

async function act(path: string, body: unknown): Promise<void> {
  const outcome = $('outcome');
  const token = $<HTMLInputElement>('token').value;
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { error?: { code: string; message: string } };
  outcome.className = res.ok ? '' : 'error';
  outcome.textContent = res.ok
    ? `${path.split('/').pop()}: done ${JSON.stringify(json)}`
    : `${json.error?.message} [${json.error?.code}]`;
}

function deviceRow(d: DeviceRow, now: number): HTMLTableRowElement {
  const tr = el('tr');
  tr.dataset.deviceId = d.deviceId;
  tr.dataset.state = d.state;
  const install = d.install
    ? `${d.install.phase} v${d.install.version}${d.install.code ? ` (${d.install.code})` : ''}`
    : '-';
  const forget = el('button', 'Forget');
  forget.addEventListener('click', () => void act('/v1/fleet/forget', { deviceId: d.deviceId }));
  const cells = [
    el('td', d.deviceId),
    el('td'),
    el('td', d.channel ?? '-'),
    el('td', d.version === null ? '-' : String(d.version), 'num'),
    el('td', install, d.install ? `install-${d.install.phase}` : ''),
    el('td', d.agentVersion),
    el('td', ago(d.lastSeen, now)),
    el('td'),
  ];
  cells[1].append(el('span', d.state, `badge ${d.state}`));
  cells[7].append(forget);
  tr.append(...cells);
  return tr;
}

function channelRow(c: ChannelRow): HTMLTableRowElement {
  const tr = el('tr');
  tr.dataset.channel = c.channel;
  const percent = el('input', undefined, 'percent');
  percent.type = 'number';
  percent.min = '0';
  percent.max = '100';
  percent.value = String(c.percent);
  percent.setAttribute('aria-label', `rollout percent of ${c.channel}`);
  const set = el('button', 'Set rollout');
  set.addEventListener(
    'click',
    () => void act('/v1/fleet/rollout', { channel: c.channel, percent: Number(percent.value) }),
  );
  const back = el('button', 'Roll back');
  back.disabled = c.previousVersion === null;
  back.addEventListener('click', () => void act('/v1/fleet/rollback', { channel: c.channel }));
  const actions = el('td');
  actions.append(percent, set, back);
  tr.append(
    el('td', c.channel),
    el('td', c.model),
    el('td', `${c.version}${c.rollback ? ' (rollback)' : ''}`, 'num'),
    el('td', `${c.percent}%`, 'num'),
    el('td', String(c.serial), 'num'),
    el('td', c.previousVersion === null ? '-' : String(c.previousVersion), 'num'),
    actions,
  );
  return tr;
}

const SVG = 'http://www.w3.org/2000/svg';
function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  text?: string,
) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** One bar per channel@version: acceptance in percent, with the number of answers it rests on. */
function chart(rows: FleetSnapshot['quality']): SVGSVGElement {
  const barH = 22;
  const left = 140;
  const width = 560;
  const height = Math.max(1, rows.length) * (barH + 8) + 30;
  const root = svg('svg', {
    width: left + width + 90,
    height,
    role: 'img',
    'aria-label': 'acceptance per model version',
  });
  rows.forEach((r, i) => {
    const y = 10 + i * (barH + 8);
    const w = Math.round(r.rate * width);
    root.append(
      svg(
        'text',
        { x: left - 8, y: y + barH * 0.7, 'text-anchor': 'end', 'font-size': 12 },
        `${r.channel}@${r.version}`,
      ),
      svg('rect', { x: left, y, width: width, height: barH, fill: '#eceff3' }),
      svg('rect', { x: left, y, width: w, height: barH, fill: '#3f7fbf', 'data-version': r.version }),
      svg(
        'text',
        { x: left + width + 6, y: y + barH * 0.7, 'font-size': 12 },
        `${(r.rate * 100).toFixed(1)}% of ${r.recommendations}`,
      ),
    );
  });
  for (const p of [0, 25, 50, 75, 100]) {
    const x = left + (p / 100) * width;
    root.append(
      svg('text', { x, y: height - 4, 'text-anchor': 'middle', 'font-size': 10, fill: '#666' }, `${p}%`),
    );
  }
  return root;
}

function render(s: FleetSnapshot): void {
  const now = Date.now();
  $('summary').textContent =
    `${s.counts.total} devices: ${s.counts.online} online, ${s.counts.offline} offline; ${s.channels.length} channels`;
  $('mode').textContent = s.actions
    ? 'Actions need the operator token.'
    : 'Read-only: this server has no operator token configured, so rollout, rollback and forget are refused.';
  $('channels')
    .querySelector('tbody')!
    .replaceChildren(...s.channels.map(channelRow));
  $('devices')
    .querySelector('tbody')!
    .replaceChildren(...s.devices.map((d) => deviceRow(d, now)));
  $('quality')
    .querySelector('tbody')!
    .replaceChildren(
      ...s.quality.map((r) => {
        const tr = el('tr');
        tr.append(
          el('td', `${r.channel}@${r.version}`),
          ...[r.devices, r.recommendations, r.accepted, r.skipped].map((n) => el('td', String(n), 'num')),
          el('td', r.recommendations > 0 ? `${(r.rate * 100).toFixed(1)}%` : '-', 'num'),
        );
        return tr;
      }),
    );
  $('chart').replaceChildren(s.quality.length > 0 ? chart(s.quality) : el('p', 'No quality counters yet.'));
  document.body.dataset.updated = s.at;
  document.body.dataset.state = 'live';
}

function live(text: string, on: boolean): void {
  $('live').textContent = text;
  $('live').className = on ? 'live on' : 'live';
}

/**
 * Follows the server-sent events with fetch rather than EventSource, which cannot send the token: a
 * server listening beyond loopback wants it for reading the fleet too. Without it (401) the page waits
 * for the token to be typed; any other end reconnects after a pause.
 */
async function follow(): Promise<void> {
  const token = $<HTMLInputElement>('token').value;
  const res = await fetch('/v1/fleet/events', token ? { headers: { authorization: `Bearer ${token}` } } : {});
  if (res.status === 401 || res.status === 429) {
    const json = (await res.json()) as { error?: { message: string } };
    live('○ locked', false);
    $('mode').textContent =
      `The fleet view needs the operator token: type it above. (${json.error?.message})`;
    $<HTMLInputElement>('token').addEventListener('change', () => void follow().catch(retry), { once: true });
    return;
  }
  if (!res.ok || !res.body) throw new Error(`event stream: HTTP ${res.status}`);
  live('● live', true);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('event stream ended');
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const data = buffer
        .slice(0, end)
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      buffer = buffer.slice(end + 2);
      if (data) render(JSON.parse(data) as FleetSnapshot);
      end = buffer.indexOf('\n\n');
    }
  }
}

function retry(): void {
  live('○ reconnecting…', false);
  setTimeout(() => void follow().catch(retry), 2000);
}

void follow().catch(retry);
