// nnlab "Poke the network": the trained network's forward pass in plain JavaScript, no libraries.
// The page computes what predict_proba computes: dense layers (ReLU, or the run's tanh, logistic or identity),
// float32 weights accumulated in float64,
// then one sigmoid unit (the derived network) or a softmax with the max subtracted. A test hook,
// window.nnlabPoke, lets a test (or a curious reader in the console) ask it for probabilities.
(function () {
  'use strict';
  const D = JSON.parse(document.getElementById('poke-data').textContent);
  const app = document.getElementById('poke-app');

  function floats(b64) { // little-endian float32, as the page was written
    const s = atob(b64), u = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
    return new Float32Array(u.buffer);
  }
  const layers = D.layers.map(L => ({ nIn: L.n_in, nOut: L.n_out, W: floats(L.W), b: floats(L.b) }));
  // With learn.js in the page (the NumPy network's report) the weights live in one float64 theta, widened
  // exactly from float32, that "one step on your drawing" (learn_drawing.js) updates in place.
  let net = null;
  if (D.trainable && window.nnlabLearn) {
    const sizes = [layers[0].nIn, ...layers.map(L => L.nOut)];
    const theta = new Float64Array(window.nnlabLearn.parameterCount(sizes));
    let at = 0;
    for (const L of layers) { theta.set(L.W, at); at += L.W.length; theta.set(L.b, at); at += L.b.length; }
    net = new window.nnlabLearn.Network(sizes, theta, D.activation);
    layers.forEach((L, l) => { L.W = net.W[l]; L.b = net.b[l]; });
  }
  const hidden = layers.slice(0, -1);
  const nClasses = D.classes.length;
  // The hidden layers' activation g (network.py's ACTIVATIONS) and its name as the page says it
  const ACT = D.activation || 'relu', RELU = ACT === 'relu';
  const act = { relu: z => Math.max(0, z), tanh: Math.tanh, logistic: z => (1 + Math.tanh(0.5 * z)) * 0.5,
              identity: z => z }[ACT];
  const G_NAME = { relu: 'ReLU', tanh: 'tanh', logistic: 'the sigmoid', identity: 'the identity' }[ACT];

  // ---- the math ------------------------------------------------------------------------------------
  function forward(x, keepZ) { // x: model input; returns {acts: hidden activations per layer, probs}
    let a = x;
    const acts = [], Zs = [];
    for (let l = 0; l < layers.length; l++) {
      const { nIn, nOut, W, b } = layers[l];
      const z = new Float64Array(nOut);
      for (let j = 0; j < nOut; j++) z[j] = b[j];                 // Z = A_prev·W + b
      for (let i = 0; i < nIn; i++) {
        const ai = a[i];
        if (ai === 0) continue;                                   // drawn images are mostly black
        const row = i * nOut;
        for (let j = 0; j < nOut; j++) z[j] += ai * W[row + j];
      }
      if (l < layers.length - 1) {
        if (keepZ) Zs.push(z.slice());
        for (let j = 0; j < nOut; j++) z[j] = act(z[j]);          // A = g(Z): ReLU, or the run's own
        acts.push(z);
      }
      a = z;
    }
    return { acts, Zs, probs: probabilities(a) };
  }
  function probabilities(z) {
    if (D.binary) return [1 / (1 + Math.exp(z[0])), 1 / (1 + Math.exp(-z[0]))]; // sigma(-z), sigma(z)
    let top = -Infinity, sum = 0;
    for (const v of z) top = Math.max(top, v);
    const e = Array.from(z, v => Math.exp(v - top));
    for (const v of e) sum += v;
    return e.map(v => v / sum);
  }
  const S = D.scaler;
  function toInput(raw) { // raw features (data units; grey level x pixel_max for images) -> model input
    const x = new Float64Array(raw.length);
    for (let i = 0; i < raw.length; i++)
      x[i] = S.kind === 'pixels' ? raw[i] / S.pixel_max : (raw[i] - S.mean[i]) / S.std[i];
    return x;
  }

  // ---- shared drawing helpers ----------------------------------------------------------------------
  function el(tag, attrs, parent, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function canvas(w, h, parent, cssW, cssH) {
    const c = el('canvas', { width: w, height: h }, parent);
    if (cssW) { c.style.width = cssW + 'px'; c.style.height = cssH + 'px'; }
    return c;
  }
  function diverging(t) { // -1 blue, 0 white, +1 red (RdBu, as the report's figures)
    t = Math.max(-1, Math.min(1, t));
    const end = t < 0 ? [33, 102, 172] : [178, 24, 43], s = Math.abs(t);
    return [0, 1, 2].map(k => Math.round(255 + (end[k] - 255) * s));
  }
  const PALETTE = [[31, 119, 180], [214, 39, 40], [44, 160, 44], [255, 127, 14], [148, 103, 189],
    [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]];
  function classColour(k) { return nClasses === 2 ? (k ? [178, 24, 43] : [33, 102, 172]) : PALETTE[k % 10]; }
  const rgb = c => `rgb(${c[0]},${c[1]},${c[2]})`;

  function probBars(parent) { // one bar per class; data-p holds the full value the test reads back
    const big = el('div', { class: 'poke-big', id: 'poke-answer' }, parent);
    const rows = D.classes.map((name, k) => {
      const row = el('div', { class: 'poke-bar', 'data-class': k }, parent);
      el('span', { class: 't' }, row, name);
      const bar = el('div', {}, row);
      const fill = el('i', {}, bar);
      fill.style.background = rgb(classColour(k));
      return { row, fill, text: el('b', {}, row) };
    });
    return function show(p) {
      let best = 0;
      p.forEach((v, k) => { if (v > p[best]) best = k; });
      rows.forEach((r, k) => {
        r.row.dataset.p = String(p[k]);
        r.row.classList.toggle('top', k === best);
        r.fill.style.width = (100 * p[k]).toFixed(2) + '%';
        r.text.textContent = (100 * p[k]).toFixed(1) + '%';
      });
      big.textContent = `${D.classes[best]} (${(100 * p[best]).toFixed(1)}%)`;
      big.dataset.best = String(best);
    };
  }

  // Hidden units of one layer: bars (few units) or a grid of cells (many), scaled by the largest activation
  // seen so far in the layer, so that a bar's height can be compared as the input changes.
  function unitView(parent, l, n, onHover) {
    const box = el('div', { class: 'poke-layer' }, parent);
    const title = el('h4', {}, box);
    const grid = n > 64;
    const cols = grid ? Math.ceil(Math.sqrt(n * 2)) : n, rows = Math.ceil(n / cols);
    const cell = grid ? Math.max(3, Math.floor(340 / cols)) : Math.max(1, Math.floor(340 / n));
    const W = cols * cell, H = grid ? rows * cell : 60;
    const c = canvas(W, H, box), g = c.getContext('2d');
    const info = el('div', { class: 'poke-note' }, box, grid ? 'Hover over a cell to read its unit.' :
      'Hover over a bar to read its unit.');
    let scale = 1e-12, last = null, marked = new Set(), picked = -1;
    function unitAt(ev) {
      const r = c.getBoundingClientRect(), x = (ev.clientX - r.left) * W / r.width,
        y = (ev.clientY - r.top) * H / r.height;
      const j = grid ? Math.floor(y / cell) * cols + Math.floor(x / cell) : Math.floor(x / cell);
      return j >= 0 && j < n ? j : -1;
    }
    c.addEventListener('mousemove', ev => {
      const j = unitAt(ev);
      if (j >= 0 && last) info.textContent = `unit ${j}: activation ${last[j].toFixed(3)}`;
      if (onHover) onHover(l, j, false);
    });
    c.addEventListener('mouseleave', () => { if (onHover) onHover(l, -1, false); });
    c.addEventListener('click', ev => { if (onHover) onHover(l, unitAt(ev), true); });
    function draw(a, top, chosen) {
      last = a;
      marked = new Set(top || []);
      picked = chosen === undefined ? picked : chosen;
      // ReLU: how far each unit is on; a smooth g: how far from g(0) (red above it, blue below)
      const mid = act(0);
      let on = 0;
      for (let j = 0; j < n; j++) { scale = Math.max(scale, Math.abs(a[j] - mid)); if (a[j] > mid) on++; }
      title.textContent = RELU ? `Hidden layer ${l + 1}: ${on} of ${n} units active` :
        `Hidden layer ${l + 1} (${ACT}): ${on} of ${n} units above ${mid}, red; below, blue`;
      g.fillStyle = grid ? '#111' : '#fff';
      g.fillRect(0, 0, W, H);
      for (let j = 0; j < n; j++) {
        const signed = (a[j] - mid) / scale, t = Math.abs(signed);
        if (grid) {
          const v = Math.round(255 * Math.sqrt(t));   // sqrt: weak units stay visible beside strong ones
          g.fillStyle = RELU ? `rgb(${v},${Math.round(v * 0.85)},${Math.round(v * 0.4)})` :
            signed >= 0 ? `rgb(${v},${Math.round(v * 0.3)},${Math.round(v * 0.3)})` :
              `rgb(${Math.round(v * 0.3)},${Math.round(v * 0.5)},${v})`;
          g.fillRect((j % cols) * cell, Math.floor(j / cols) * cell, cell - (cell > 3), cell - (cell > 3));
          if (marked.has(j) || j === picked) {
            g.strokeStyle = j === picked ? '#0af' : '#f33';
            g.lineWidth = 1.5;
            g.strokeRect((j % cols) * cell + 0.75, Math.floor(j / cols) * cell + 0.75, cell - 1.5, cell - 1.5);
          }
        } else {
          g.fillStyle = j === picked ? '#0af' : marked.has(j) ? '#c33' : RELU ? '#555' : signed >= 0 ? '#b2182b' : '#2166ac';
          g.fillRect(j * cell, H - t * (H - 2), Math.max(1, cell - (cell > 2)), t * (H - 2));
        }
      }
    }
    return { draw };
  }

  // ---- 2-D data: a point on the plane ----------------------------------------------------------------
  function pointsPage() {
    const SIZE = 440, lo = D.lo, hi = D.hi;
    const left = el('div', { class: 'poke-col' }, app), right = el('div', { class: 'poke-col' }, app);
    const plane = canvas(SIZE, SIZE, left), g = plane.getContext('2d');
    const fieldNote = el('div', { class: 'poke-note', id: 'poke-field' }, left);
    const buttons = el('div', {}, left);
    const clearBtn = el('button', { type: 'button' }, buttons, 'Remove added points');
    const show = probBars(right);
    const views = hidden.map((L, l) => unitView(right, l, L.nOut, hover));
    const toPx = (x, y) => [(x - lo[0]) / (hi[0] - lo[0]) * SIZE, (1 - (y - lo[1]) / (hi[1] - lo[1])) * SIZE];
    const toData = (px, py) => [lo[0] + px / SIZE * (hi[0] - lo[0]), lo[1] + (1 - py / SIZE) * (hi[1] - lo[1])];
    let point = toData(SIZE / 2, SIZE / 2), extra = [], current = null, pinned = null, shownUnit = null;

    // The field over a G x G grid, with every hidden unit's input Z kept for the unit fields: Z is smooth, so
    // interpolating it (then ReLU) puts the line where a unit switches on in the right place. G shrinks for
    // big networks (work ~ G^2 x weights), and the grid is computed a slice per frame so the page stays live.
    const macs = layers.reduce((s, L) => s + L.nIn * L.nOut, 0);
    const units = hidden.reduce((s, L) => s + L.nOut, 0);
    const G = Math.max(24, Math.min(110, Math.floor(Math.sqrt(Math.min(2e8 / macs, 4e6 / Math.max(units, 1))))));
    const gridP = new Float32Array(G * G * nClasses), gridZ = hidden.map(L => new Float32Array(G * G * L.nOut));
    let gridDone = 0;
    function gridSlice() {
      const t0 = performance.now();
      while (gridDone < G * G && performance.now() - t0 < 12) {
        const i = gridDone++, gx = i % G, gy = Math.floor(i / G);
        const r = forward(toInput(toData((gx + 0.5) * SIZE / G, (gy + 0.5) * SIZE / G)), true);
        r.probs.forEach((v, k) => { gridP[i * nClasses + k] = v; });
        r.Zs.forEach((z, l) => gridZ[l].set(z, i * z.length));
      }
      if (gridDone < G * G) setTimeout(gridSlice, 0); else paintField();
    }
    let fieldImage = null;
    function paintField() { // bilinear in the grid, at the canvas's resolution, with the 0.5 (or 0) line
      const unit = pinned || shownUnit;
      const value = new Float32Array(SIZE * SIZE);
      let vmax = 1e-12;
      const at = (i) => unit ? gridZ[unit.l][i * hidden[unit.l].nOut + unit.j] :
        nClasses === 2 ? gridP[i * 2 + 1] : 0;
      // a unit: A = g(Z) of the interpolated Z; beside ReLU's off (grey) and on, a smooth g is shown signed
      // about g(0), the value where Z = 0 (the black line)
      const mid = unit ? act(0) : 0;
      for (let py = 0; py < SIZE; py++) for (let px = 0; px < SIZE; px++) {
        const fx = Math.min(G - 1.001, Math.max(0, px * G / SIZE - 0.5)), fy = Math.min(G - 1.001, Math.max(0, py * G / SIZE - 0.5));
        const x0 = Math.floor(fx), y0 = Math.floor(fy), tx = fx - x0, ty = fy - y0, i = y0 * G + x0;
        let v = nClasses > 2 && !unit ? -1 : (at(i) * (1 - tx) + at(i + 1) * tx) * (1 - ty) + (at(i + G) * (1 - tx) + at(i + G + 1) * tx) * ty;
        if (unit) v = act(v);
        value[py * SIZE + px] = v;
        vmax = Math.max(vmax, unit && !RELU ? Math.abs(v - mid) : v);
      }
      const img = g.createImageData(SIZE, SIZE);
      for (let py = 0; py < SIZE; py++) for (let px = 0; px < SIZE; px++) {
        const k = py * SIZE + px, v = value[k];
        let c;
        if (unit && RELU) c = v <= 0 ? [225, 225, 225] : diverging(0.15 + 0.85 * v / vmax);
        else if (unit) c = diverging(0.85 * (v - mid) / vmax);
        else if (nClasses === 2) c = diverging((2 * v - 1) * 0.8);
        else {
          const gi = Math.min(G - 1, Math.floor(py * G / SIZE)) * G + Math.min(G - 1, Math.floor(px * G / SIZE));
          c = [255, 255, 255];
          for (let q = 0; q < nClasses; q++) {
            const w = gridP[gi * nClasses + q] * 0.55, cc = classColour(q);
            for (let m = 0; m < 3; m++) c[m] -= (255 - cc[m]) * w;
          }
        }
        const cut = unit ? mid : 0.5, right = px + 1 < SIZE ? value[k + 1] : v, down = py + 1 < SIZE ? value[k + SIZE] : v;
        if ((nClasses === 2 || unit) && ((v > cut) !== (right > cut) || (v > cut) !== (down > cut))) c = [0, 0, 0];
        img.data.set([c[0], c[1], c[2], 255], 4 * k);
      }
      fieldImage = img;
      fieldNote.textContent = unit ? `Colour: the activation of unit ${unit.j} of hidden layer ${unit.l + 1} over the plane ` +
        (RELU ? '(grey: 0, the unit is off; black line: where it switches on). ' :
          `(${G_NAME} of its input: red above ${mid}, its value at input 0, blue below; black line: input 0). `) +
        `${pinned ? 'Click the unit again to go back.' : ''}` :
        (nClasses === 2 ? `Colour: the network's probability of ${D.classes[1]} (red) against ${D.classes[0]} ` +
          '(blue) over the plane; the black line is p = 0.5, the decision boundary.' :
          'Colour: each class\'s probability mixes its colour.') + ` Computed by this page on a ${G}×${G} grid.`;
      redraw();
    }
    function redraw() {
      if (fieldImage) g.putImageData(fieldImage, 0, 0); else { g.fillStyle = '#fafafa'; g.fillRect(0, 0, SIZE, SIZE); }
      for (let i = 0; i < D.x.length; i++) {
        const [px, py] = toPx(D.x[i][0], D.x[i][1]);
        g.fillStyle = rgb(classColour(D.y[i]));
        g.beginPath(); g.arc(px, py, 2.6, 0, 7); g.fill();
      }
      g.font = 'bold 13px system-ui, sans-serif';
      for (const q of extra) dot(q, '#fff', 6, forward(toInput(q)).probs);
      dot(point, '#000', 8, current.probs);
    }
    function dot(q, fill, r, p) {
      const [px, py] = toPx(q[0], q[1]);
      g.fillStyle = fill; g.strokeStyle = fill === '#000' ? '#fff' : '#000'; g.lineWidth = 2;
      g.beginPath(); g.arc(px, py, r, 0, 7); g.fill(); g.stroke();
      const best = p.indexOf(Math.max(...p)), label = nClasses === 2 ? `p=${p[1].toFixed(3)}` :
        `${D.classes[best]} ${(100 * p[best]).toFixed(0)}%`;
      g.lineWidth = 3; g.strokeStyle = '#fff'; g.strokeText(label, px + r + 3, py - r);
      g.fillStyle = '#000'; g.fillText(label, px + r + 3, py - r);
    }
    function update() {
      current = forward(toInput(point));
      show(current.probs);
      views.forEach((v, l) => v.draw(current.acts[l], null, pinned && pinned.l === l ? pinned.j : -1));
      redraw();
    }
    function hover(l, j, click) {
      if (click) pinned = pinned && pinned.l === l && pinned.j === j || j < 0 ? null : { l, j };
      else shownUnit = j >= 0 ? { l, j } : null;
      if (gridDone === G * G) paintField();
      update();
    }
    let dragging = false;
    function eventPoint(ev) {
      const r = plane.getBoundingClientRect();
      return toData((ev.clientX - r.left) * SIZE / r.width, (ev.clientY - r.top) * SIZE / r.height);
    }
    plane.addEventListener('pointerdown', ev => {
      if (ev.shiftKey) { extra.push(eventPoint(ev)); redraw(); return; }
      dragging = true; plane.setPointerCapture(ev.pointerId); point = eventPoint(ev); update();
    });
    plane.addEventListener('pointermove', ev => { if (dragging) { point = eventPoint(ev); update(); } });
    plane.addEventListener('pointerup', () => { dragging = false; });
    clearBtn.addEventListener('click', () => { extra = []; redraw(); });
    update();
    gridSlice();
    return {
      update,
      setPoint(x, y) { point = [x, y]; update(); },
      addPoint(x, y) { extra.push([x, y]); redraw(); },
      toPixels: toPx,
      state: () => ({ point, input: Array.from(toInput(point)), probs: current.probs,
        hidden: current.acts.map(a => Array.from(a)), gridDone: gridDone === G * G, grid: G }),
    };
  }

  // ---- images: draw on a canvas ----------------------------------------------------------------------
  function imagePage() {
    const h = D.h, w = D.w, n = h * w, zoom = Math.max(4, Math.floor(280 / Math.max(h, w)));
    const pixels = new Float64Array(n); // grey levels in [0, 1]
    const samples = D.images ? floats(D.images) : new Float32Array(0);
    const spread = D.spread ? floats(D.spread) : null;
    const left = el('div', { class: 'poke-col' }, app), right = el('div', { class: 'poke-col' }, app);
    const pad = canvas(w, h, left, w * zoom, h * zoom), pg = pad.getContext('2d');
    pad.style.cursor = 'crosshair';
    const buttons = el('div', {}, left);
    const clearBtn = el('button', { type: 'button' }, buttons, 'Clear');
    const eraser = el('button', { type: 'button' }, buttons, 'Eraser');
    const centreBtn = el('button', { type: 'button' }, buttons, 'Centre');
    el('h4', {}, left, 'Test images (click one, then edit it)');
    el('div', { class: 'poke-note' }, left, 'Red frame: a test image the network gets wrong.');
    const thumbs = el('div', { class: 'poke-thumbs' }, left);
    const show = probBars(right);
    const views = hidden.map((L, l) => unitView(right, l, L.nOut));
    const TOP = 8, first = layers[0];
    const topBox = el('div', { class: 'poke-col', id: 'poke-top' }, app);
    el('h4', {}, topBox, `The ${TOP} first-layer units that fire most`);
    el('div', { class: 'poke-note' }, topBox, 'Each unit twice: its weights' + (spread ? ' times each pixel\'s ' +
      'spread in the training images (blank: a pixel that never varies)' : '') + ', red where a bright ' +
      'pixel raises it and blue where it lowers it; then lit up by your drawing, each pixel\'s grey level × its ' +
      'weight: the unit\'s activation is the sum of the lit picture plus its bias, through ' + G_NAME + '.');
    const topRow = el('div', { class: 'poke-units' }, topBox);
    const tiles = Array.from({ length: Math.min(TOP, first.nOut) }, () => {
      const f = el('figure', {}, topRow);
      const a = canvas(w, h, f, 84, 84), b = canvas(w, h, f, 84, 84);
      return { cap: el('figcaption', {}, f), a: a.getContext('2d'), b: b.getContext('2d') };
    });
    let current = null, erasing = false, queued = false;

    function tile(g2, value) { // value(i) in [-1, 1] or NaN (blank)
      const img = g2.createImageData(w, h);
      for (let i = 0; i < n; i++) {
        const v = value(i), c = Number.isNaN(v) ? [200, 200, 200] : diverging(v);
        img.data.set([c[0], c[1], c[2], 255], 4 * i);
      }
      g2.putImageData(img, 0, 0);
    }
    function update() {
      queued = false;
      const img = pg.createImageData(w, h);
      for (let i = 0; i < n; i++) { const v = Math.round(255 * pixels[i]); img.data.set([v, v, v, 255], 4 * i); }
      pg.putImageData(img, 0, 0);
      current = forward(toInput(Array.from(pixels, v => v * S.pixel_max)));
      show(current.probs);
      app.dispatchEvent(new Event('poke-update')); // for learn_drawing.js: the drawing or the weights changed
      const a1 = current.acts[0] || new Float64Array(0);
      const top = Array.from(a1.keys()).sort((i, j) => a1[j] - a1[i]).slice(0, tiles.length).filter(j => a1[j] > 0);
      views.forEach((v, l) => v.draw(current.acts[l], l === 0 ? top : null));
      tiles.forEach((t, k) => {
        const j = top[k];
        t.cap.textContent = j === undefined ? '(no unit fires)' : `unit ${j} · a = ${a1[j].toFixed(2)}`;
        if (j === undefined) { tile(t.a, () => NaN); tile(t.b, () => NaN); return; }
        const wv = i => first.W[i * first.nOut + j] * (spread ? spread[i] : 1);
        let m1 = 1e-12, m2 = 1e-12;
        for (let i = 0; i < n; i++) { m1 = Math.max(m1, Math.abs(wv(i))); m2 = Math.max(m2, Math.abs(pixels[i] * first.W[i * first.nOut + j])); }
        tile(t.a, i => spread && spread[i] === 0 ? NaN : wv(i) / m1);
        tile(t.b, i => pixels[i] * first.W[i * first.nOut + j] / m2);
      });
    }
    const later = () => { if (!queued) { queued = true; requestAnimationFrame(update); } };
    function stroke(x0, y0, x1, y1, erase) { // a soft pen about 2.5 pixels wide, like MNIST's strokes
      const R = 0.9, x_lo = Math.max(0, Math.floor(Math.min(x0, x1) - R - 1)), x_hi = Math.min(w - 1, Math.ceil(Math.max(x0, x1) + R + 1));
      const y_lo = Math.max(0, Math.floor(Math.min(y0, y1) - R - 1)), y_hi = Math.min(h - 1, Math.ceil(Math.max(y0, y1) + R + 1));
      const dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
      for (let y = y_lo; y <= y_hi; y++) for (let x = x_lo; x <= x_hi; x++) {
        const px = x + 0.5, py = y + 0.5;
        const t = len2 ? Math.max(0, Math.min(1, ((px - x0) * dx + (py - y0) * dy) / len2)) : 0;
        const d = Math.hypot(px - x0 - t * dx, py - y0 - t * dy), v = Math.max(0, Math.min(1, R + 1 - d));
        const i = y * w + x;
        pixels[i] = erase ? Math.min(pixels[i], 1 - v) : Math.max(pixels[i], v);
      }
    }
    function drawStroke(pts, erase) { // pts: [[x, y], ...] in image pixels
      for (let k = 0; k < pts.length; k++) {
        const p = pts[k], q = pts[Math.max(0, k - 1)];
        stroke(q[0], q[1], p[0], p[1], erase);
      }
    }
    function pick(k) { for (let i = 0; i < n; i++) pixels[i] = samples[k * n + i]; }
    function centre() { // shift the centre of mass to the middle, as MNIST's digits were prepared
      let m = 0, cx = 0, cy = 0;
      for (let i = 0; i < n; i++) { m += pixels[i]; cx += pixels[i] * (i % w); cy += pixels[i] * Math.floor(i / w); }
      if (!m) return;
      const sx = Math.round((w - 1) / 2 - cx / m), sy = Math.round((h - 1) / 2 - cy / m), old = pixels.slice();
      pixels.fill(0);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        const X = x - sx, Y = y - sy;
        if (X >= 0 && X < w && Y >= 0 && Y < h) pixels[y * w + x] = old[Y * w + X];
      }
    }
    let last = null;
    const at = ev => { const r = pad.getBoundingClientRect(); return [(ev.clientX - r.left) * w / r.width, (ev.clientY - r.top) * h / r.height]; };
    pad.addEventListener('contextmenu', ev => ev.preventDefault());
    pad.addEventListener('pointerdown', ev => {
      pad.setPointerCapture(ev.pointerId);
      last = at(ev);
      drawStroke([last], erasing || ev.button === 2); later();
    });
    pad.addEventListener('pointermove', ev => {
      if (!last) return;
      const p = at(ev);
      drawStroke([last, p], erasing || (ev.buttons & 2) !== 0); last = p; later();
    });
    pad.addEventListener('pointerup', () => { last = null; });
    clearBtn.addEventListener('click', () => { pixels.fill(0); update(); });
    eraser.addEventListener('click', () => { erasing = !erasing; eraser.classList.toggle('on', erasing); });
    centreBtn.addEventListener('click', () => { centre(); update(); });
    for (let k = 0; k < D.labels.length; k++) {
      const c = canvas(w, h, thumbs), g2 = c.getContext('2d'), img = g2.createImageData(w, h);
      for (let i = 0; i < n; i++) { const v = Math.round(255 * samples[k * n + i]); img.data.set([v, v, v, 255], 4 * i); }
      g2.putImageData(img, 0, 0);
      c.title = `test image of ${D.classes[D.labels[k]]}` + (D.wrong[k] ? ' (the network gets it wrong)' : '');
      if (D.wrong[k]) c.classList.add('wrong');
      c.addEventListener('click', () => { pick(k); update(); });
    }
    if (D.labels.length) pick(0);
    update();
    return {
      update,
      drawStroke(pts, erase) { drawStroke(pts, erase); update(); },
      clear() { pixels.fill(0); update(); },
      pick(k) { pick(k); update(); },
      centre() { centre(); update(); },
      padRect: () => { const r = pad.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; },
      state: () => ({ pixels: Array.from(pixels), input: Array.from(toInput(Array.from(pixels, v => v * S.pixel_max))),
        probs: current.probs, hidden: current.acts.map(a => Array.from(a)),
        top: tiles.map(t => t.cap.textContent) }),
    };
  }

  const page = D.kind === 'points' ? pointsPage() : imagePage();
  // For presets in a link (and screenshots): #poke-point=x,y  #poke-test=k  #poke-draw=x,y;x,y;...
  const hash = decodeURIComponent(location.hash.slice(1));
  const num = s => s.split(',').map(Number);
  for (const part of hash.split('&')) {
    const [key, value] = part.split('=');
    if (key === 'poke-point' && page.setPoint) page.setPoint(...num(value));
    if (key === 'poke-test' && page.pick) page.pick(Number(value));
    if (key === 'poke-draw' && page.drawStroke) { page.clear(); page.drawStroke(value.split(';').map(num)); }
  }
  window.nnlabPoke = Object.assign(page, {
    kind: D.kind, net, classes: D.classes, scaler: S, h: D.h, w: D.w,
    predict: rows => rows.map(x => forward(Float64Array.from(x)).probs),
    predictRaw: rows => rows.map(x => forward(toInput(x)).probs),
    time(reps, input) { // ms per forward pass of `input` (default: every input 0.5, the slowest), averaged
      const x = input ? Float64Array.from(input) : new Float64Array(layers[0].nIn).fill(0.5), t0 = performance.now();
      for (let r = 0; r < reps; r++) forward(x);
      return (performance.now() - t0) / reps;
    },
    timeUpdate(reps) { // ms per redraw of everything the input drives (forward pass, bars, units, canvases)
      const t0 = performance.now();
      for (let r = 0; r < reps; r++) page.update();
      return (performance.now() - t0) / reps;
    },
  });
})();
