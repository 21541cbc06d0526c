// The processor's dashboard: renders each state the server sends over /events.
// Hand-written, no dependencies; every value from the server goes in as text, never as markup.
'use strict';

(() => {
  const SVG = 'http://www.w3.org/2000/svg';
  const $ = (id) => document.getElementById(id);
  const integer = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US'));
  const money = (n) => (n === null || n === undefined ? '—' : n.toFixed(2));
  const clock = (ms) => new Date(ms).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  const statusText = {
    waiting: 'waiting for partitions',
    restoring: 'restoring state',
    processing: 'processing',
    'no-partitions': 'no partitions assigned',
    stopping: 'stopping',
  };

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function svg(tag, attributes) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    return node;
  }

  function setStatus(state, text) {
    const status = $('status');
    status.dataset.state = state;
    status.textContent = text;
  }

  // classes[i]: 'num' right-aligns a column; 'wide' hides it on a phone.
  function row(cells, classes) {
    const tr = document.createElement('tr');
    cells.forEach((cell, i) => tr.append(element('td', cell, classes[i])));
    return tr;
  }

  function emptyRow(columns, text) {
    const tr = element('tr', undefined, 'empty-row');
    const td = element('td', text);
    td.colSpan = columns;
    tr.append(td);
    return tr;
  }

  // Every amount is of one currency: the selector picks which one the headline, chart and products show.
  let chosen = '';

  function selected(s) {
    return s.currencies.find((c) => c.currency === chosen) || s.currencies[0] || null;
  }

  function renderCurrencies(s) {
    const select = $('currency');
    const names = s.currencies.map((c) => c.currency);
    if ([...select.options].map((o) => o.value).join('|') !== names.join('|')) {
      select.replaceChildren(...(names.length === 0 ? [element('option', '—')] : names.map((n) => {
        const option = element('option', n);
        option.value = n;
        return option;
      })));
    }

    const current = selected(s);
    chosen = current ? current.currency : '';
    select.value = chosen;
    $('currency-name').textContent = chosen || '—';
    $('chart-currency').textContent = chosen || '—';
    $('products-currency').textContent = chosen || '—';
    $('mean').textContent = money(current ? current.price.mean : null);
    $('count').textContent = integer(current ? current.count : 0);
    $('order-value').textContent = money(current ? current.orderValue.mean : null);
    $('currencies').replaceChildren(...s.currencies.map((c) => {
      const card = element('div', undefined, 'card');
      card.dataset.currency = c.currency;
      card.append(
        element('h2', c.currency),
        element('p', money(c.price.mean), 'value'),
        element('p', c.unsplit
          ? `${integer(c.count)} orders from checkpoints written before per-currency figures (prices only)`
          : `${integer(c.count)} orders · average order value ${money(c.orderValue.mean)}`, 'sub'));
      return card;
    }));
  }

  function renderTotals(s) {
    $('topic').textContent = s.topic;
    $('group').textContent = s.group;
    $('rate').textContent = s.rate === undefined ? '—' : s.rate.toFixed(1);
    $('processed').textContent = integer(s.processed);
    $('retries').textContent = integer(s.retried);
    $('registry-waits').textContent = integer(s.registryWaits);
    $('in-flight').textContent = integer(s.load.inFlight);
    $('waiting-key').textContent = integer(s.load.waitingForKey);
    $('waiting-backoff').textContent = integer(s.load.waitingForBackoff);
    const reasons = Object.entries(s.deadLettered);
    $('dead-total').textContent = integer(reasons.reduce((sum, [, n]) => sum + n, 0));
    $('dead-reasons').textContent = reasons.map(([reason, n]) => `${reason} ${integer(n)}`).join(' · ') || 'none';
  }

  function renderChart(s) {
    const chart = $('chart');
    const current = selected(s);
    const minutes = (current ? current.minutes : []).filter((m) => m.mean !== null && m.mean !== undefined);
    if (minutes.length === 0) {
      const why = s.status === 'processing' ? 'No orders yet: the chart starts with the first processed order.' : 'No orders yet.';
      chart.replaceChildren(element('p', why, 'empty'));
      return;
    }

    // Drawn at the element's own width, so that labels keep their size from a phone to a wide screen.
    const width = Math.max(240, chart.clientWidth || 600), height = 220, left = 52, right = 12, top = 12, bottom = 26;
    const first = minutes[0].start, last = minutes[minutes.length - 1].start;
    let low = Math.min(...minutes.map((m) => m.mean)), high = Math.max(...minutes.map((m) => m.mean));
    const pad = high > low ? (high - low) * 0.1 : Math.max(1, Math.abs(high) * 0.05);
    low -= pad;
    high += pad;
    const x = (start) => (last === first ? (left + width - right) / 2 : left + ((start - first) / (last - first)) * (width - left - right));
    const y = (mean) => top + (1 - (mean - low) / (high - low)) * (height - top - bottom);

    const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `Average price per minute (${current ? current.currency : ''})` });
    for (let i = 0; i <= 3; i++) {
      const value = low + ((high - low) * i) / 3;
      root.append(svg('line', { class: 'axis', x1: left, x2: width - right, y1: y(value), y2: y(value) }));
      const label = svg('text', { class: 'label', x: left - 6, y: y(value) + 4, 'text-anchor': 'end' });
      label.textContent = value.toFixed(2);
      root.append(label);
    }

    const ticks = first === last ? [[first, 'middle']] : [[first, 'start'], [last, 'end']];
    for (const [start, anchor] of ticks) {
      const label = svg('text', { class: 'label', x: x(start), y: height - 6, 'text-anchor': anchor });
      label.textContent = clock(start);
      root.append(label);
    }

    root.append(svg('polyline', { class: 'line', points: minutes.map((m) => `${x(m.start).toFixed(1)},${y(m.mean).toFixed(1)}`).join(' ') }));
    for (const m of minutes) {
      const point = svg('circle', { class: 'point', cx: x(m.start).toFixed(1), cy: y(m.mean).toFixed(1), r: 3.5 });
      const title = svg('title', {});
      title.textContent = `${clock(m.start)}: mean ${money(m.mean)} over ${integer(m.count)} orders`;
      point.append(title);
      root.append(point);
    }

    chart.replaceChildren(root);
  }

  function renderProducts(s) {
    const body = $('products').tBodies[0];
    const current = selected(s);
    const products = current ? current.products : [];
    const moreProducts = current ? current.moreProducts : 0;
    if (products.length === 0) {
      body.replaceChildren(emptyRow(6, 'No orders yet.'));
    } else {
      body.replaceChildren(...products.map((p) => {
        const tr = row([p.product, integer(p.count), money(p.mean), money(p.min), money(p.max), money(p.orderValue)], [undefined, 'num', 'num', 'num wide', 'num wide', 'num wide']);
        tr.dataset.product = p.product;
        return tr;
      }));
    }

    const more = $('more-products');
    more.hidden = moreProducts === 0;
    more.textContent = `and ${integer(moreProducts)} more products with fewer orders (see /metrics or orders stats)`;
  }

  function renderPartitions(s) {
    const body = $('partitions').tBodies[0];
    if (s.partitions.length === 0) {
      const why = s.restoring > 0 ? `${s.restoring} partition(s) restoring their state…` : 'No partition assigned yet.';
      body.replaceChildren(emptyRow(6, why));
      return;
    }

    body.replaceChildren(...s.partitions.map((p) => {
      const tr = row([String(p.partition), integer(p.nextOffset), integer(p.checkpointedOffset), integer(p.count), p.lag === undefined ? '—' : integer(p.lag), p.held ? `held: ${p.held}` : 'fetching'], [undefined, 'num', 'num wide', 'num', 'num', 'fetch']);
      tr.dataset.partition = p.partition;
      if (p.held) {
        tr.dataset.held = p.held;
      }
      return tr;
    }));
  }

  function renderDeadLetters(s) {
    const list = $('dead-letters');
    if (s.recentDeadLetters.length === 0) {
      list.replaceChildren(element('li', 'None in this run.', 'empty'));
      return;
    }

    list.replaceChildren(...s.recentDeadLetters.map((d) => {
      const item = document.createElement('li');
      item.append(
        element('span', d.reason, 'reason'),
        element('span', `${d.topic}[${d.partition}]@${d.offset} · ${new Date(d.at).toLocaleTimeString('en-GB')}`, 'meta'),
        element('span', `${d.errorType}: ${d.error}`, 'error'));
      return item;
    }));
  }

  let last = null;

  function render(s) {
    last = s;
    setStatus(s.status, statusText[s.status] || s.status);
    renderTotals(s);
    renderCurrencies(s);
    renderChart(s);
    renderProducts(s);
    renderPartitions(s);
    renderDeadLetters(s);
    $('updated').textContent = new Date(s.at).toLocaleTimeString('en-GB');
  }

  window.addEventListener('resize', () => last && renderChart(last));
  $('currency').addEventListener('change', (e) => {
    chosen = e.target.value;
    if (last) render(last);
  });

  const events = new EventSource('/events');
  events.addEventListener('state', (e) => render(JSON.parse(e.data)));
  // EventSource reconnects by itself; until then the numbers shown are the last ones received.
  events.addEventListener('error', () => setStatus('disconnected', 'disconnected: reconnecting…'));
})();
