// nnlab "See through the CNN": nnlab's CNN in plain JavaScript, float64. Each block: a 3x3 convolution
// (padding 1, no bias), a 2x2 max-pool where the run had one, batch norm as y = s·x + t per channel, ReLU;
// then the head: dense layers (its batch norm folded in), ReLU between them, a softmax. Maps are channel-major:
// channel c, row y, column x at (c*H + y)*W + x. A test hook, window.nnlabCNN, runs it and reads what it shows.
(function () {
  'use strict';
  const D = JSON.parse(document.getElementById('cnn-data').textContent);
  const app = document.getElementById('cnn-app');
  function floats(b64) { // little-endian float32, widened to float64 exactly
    const s = atob(b64), u = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
    return Float64Array.from(new Float32Array(u.buffer));
  }
  const blocks = D.blocks.map(b => ({ cIn: b.c_in, cOut: b.c_out, pool: b.pool, K: floats(b.K), s: b.s, t: b.t }));
  const dense = D.dense.map(L => ({ nIn: L.n_in, nOut: L.n_out, W: floats(L.W), b: floats(L.b) }));
  const [C0, H0, W0] = D.shape, S = D.scaler, nClasses = D.classes.length;

  // ---- the math ------------------------------------------------------------------------------------
  function conv3x3(A, C, H, W, K, Cout) { // Z[o] = Σ_c A[c] ⋆ K[o, c], zero padding of 1
    const Z = new Float64Array(Cout * H * W);
    for (let o = 0; o < Cout; o++) for (let c = 0; c < C; c++) {
      const k = K.subarray((o * C + c) * 9, (o * C + c) * 9 + 9), a = A.subarray(c * H * W, (c + 1) * H * W);
      const z = Z.subarray(o * H * W, (o + 1) * H * W);
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const w = k[(dy + 1) * 3 + dx + 1];
        if (w === 0) continue;
        for (let y = Math.max(0, -dy); y < Math.min(H, H - dy); y++) {
          const row = y * W, src = (y + dy) * W + dx;
          for (let x = Math.max(0, -dx); x < Math.min(W, W - dx); x++) z[row + x] += w * a[src + x];
        }
      }
    }
    return Z;
  }
  function maxPool2(Z, C, H, W) { // 2x2, stride 2 (floor), keeping where each max came from
    const h = Math.floor(H / 2), w = Math.floor(W / 2), P = new Float64Array(C * h * w), from = new Int32Array(C * h * w);
    for (let c = 0; c < C; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      let best = -Infinity, at = 0;
      for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
        const i = (c * H + 2 * y + dy) * W + 2 * x + dx;
        if (Z[i] > best) { best = Z[i]; at = i; }
      }
      P[(c * h + y) * w + x] = best; from[(c * h + y) * w + x] = at;
    }
    return { P, from, h, w };
  }
  function forward(x) { // x: the model input (C0*H0*W0); returns every block's maps and the probabilities
    let A = x, C = C0, H = H0, W = W0;
    const kept = [];
    for (const B of blocks) {
      const Z = conv3x3(A, C, H, W, B.K, B.cOut);
      let P = Z, from = null, h = H, w = W;
      if (B.pool) ({ P, from, h, w } = maxPool2(Z, B.cOut, H, W));
      const out = new Float64Array(P.length);
      for (let c = 0; c < B.cOut; c++) for (let i = c * h * w; i < (c + 1) * h * w; i++) {
        out[i] = Math.max(0, B.s[c] * P[i] + B.t[c]);                 // A = ReLU(s·P + t)
      }
      kept.push({ input: A, C, H, W, Z, P, from, A: out, h, w });
      A = out; C = B.cOut; H = h; W = w;
    }
    let a = A;
    dense.forEach((L, l) => {
      const z = new Float64Array(L.nOut);
      for (let j = 0; j < L.nOut; j++) z[j] = L.b[j];                  // Z = A_prev·W + b
      for (let i = 0; i < L.nIn; i++) {
        if (a[i] === 0) continue;
        for (let j = 0; j < L.nOut; j++) z[j] += a[i] * L.W[i * L.nOut + j];
      }
      if (l < dense.length - 1) for (let j = 0; j < L.nOut; j++) z[j] = Math.max(0, z[j]); // A = ReLU(Z)
      a = z;
    });
    let top = -Infinity, sum = 0;
    for (const v of a) top = Math.max(top, v);
    const e = Array.from(a, v => Math.exp(v - top));
    for (const v of e) sum += v;
    return { blocks: kept, probs: e.map(v => v / sum) };
  }
  const toInput = grey => Float64Array.from(grey, (g, i) => (S.kind === 'pixels' ? g : (g * S.pixel_max - S.mean[i]) / S.std[i]));

  // ---- the page ------------------------------------------------------------------------------------
  function el(tag, attrs, parent, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  const diverging = t => { t = Math.max(-1, Math.min(1, t)); const end = t < 0 ? [33, 102, 172] : [178, 24, 43], s = Math.abs(t);
    return [0, 1, 2].map(k => Math.round(255 + (end[k] - 255) * s)); };
  function paint(canvas, w, h, colour) { // colour(i) -> [r, g, b] for each cell
    const g = canvas.getContext('2d'), img = g.createImageData(w, h);
    for (let i = 0; i < w * h; i++) img.data.set([...colour(i), 255], 4 * i);
    g.putImageData(img, 0, 0);
  }
  const n = H0 * W0, grey = new Float64Array(n), samples = floats(D.images);
  const left = el('div', { class: 'cnn-col' }, app), right = el('div', { class: 'cnn-col' }, app);
  const zoom = Math.max(4, Math.floor(224 / Math.max(H0, W0)));
  const pad = el('canvas', { width: W0, height: H0, id: 'cnn-pad' }, left);
  pad.style.width = W0 * zoom + 'px'; pad.style.height = H0 * zoom + 'px'; pad.style.cursor = 'crosshair';
  const buttons = el('div', {}, left), clearBtn = el('button', { type: 'button' }, buttons, 'Clear');
  const thumbs = el('div', { class: 'cnn-maps' }, left);
  const answer = el('div', { id: 'cnn-answer' }, right); answer.style.cssText = 'font-size: 1.4em; font-weight: bold;';
  const bars = D.classes.map(name => { const r = el('div', { class: 'cnn-bar' }, right); el('span', {}, r, name);
    const f = el('i', {}, el('div', {}, r)); return { r, f, v: el('b', {}, r) }; });
  const mapsBox = el('div', { class: 'cnn-col', id: 'cnn-blocks' }, app);
  mapsBox.style.width = '100%';
  const views = blocks.map((B, k) => {
    el('h4', {}, mapsBox, `Block ${k + 1}: ${B.cOut} channels (3×3 conv${B.pool ? ', 2×2 max-pool' : ''}, batch norm, ReLU)`);
    const row = el('div', { class: 'cnn-maps' }, mapsBox);
    return { row, maps: [] };
  });
  const kernelBox = el('div', { class: 'cnn-col' }, mapsBox);
  const kernelTitle = el('h4', {}, kernelBox, 'Click a map to see its channel\'s kernels.');
  const kernels = el('div', { class: 'cnn-maps' }, kernelBox);
  const dot = el('div', { class: 'cnn-dot', id: 'cnn-dot' }, mapsBox, 'Hover over a map to see the arithmetic behind a value.');
  let current = null, chosen = null;

  function showKernels(k, o) {
    chosen = { k, o };
    const B = blocks[k];
    kernelTitle.textContent = `Block ${k + 1}, channel ${o}: its ${B.cIn} kernel${B.cIn > 1 ? 's' : ''} (3×3, one per input channel, one scale)`;
    kernels.textContent = '';
    let top = 1e-12;
    for (let q = o * B.cIn * 9; q < (o + 1) * B.cIn * 9; q++) top = Math.max(top, Math.abs(B.K[q]));
    for (let c = 0; c < B.cIn; c++) {
      const cv = el('canvas', { width: 3, height: 3 }, kernels); cv.style.width = cv.style.height = '36px';
      cv.title = `input channel ${c}`;
      paint(cv, 3, 3, i => diverging(B.K[(o * B.cIn + c) * 9 + i] / top));
    }
    views.forEach((v, kk) => v.maps.forEach((m, oo) => m.classList.toggle('on', kk === k && oo === o)));
  }
  function explain(k, o, y, x) { // the arithmetic behind block k's map o at (y, x)
    const r = current.blocks[k], B = blocks[k], i = (o * r.h + y) * r.w + x;
    const at = r.from ? r.from[i] : i, cy = Math.floor((at % (r.H * r.W)) / r.W), cx = at % r.W;
    let z = 0, terms = 0, best = { c: 0, v: -Infinity };
    for (let c = 0; c < r.C; c++) {
      let part = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const yy = cy + dy, xx = cx + dx;
        if (yy < 0 || yy >= r.H || xx < 0 || xx >= r.W) continue;
        part += r.input[(c * r.H + yy) * r.W + xx] * B.K[(o * r.C + c) * 9 + (dy + 1) * 3 + dx + 1];
        terms++;
      }
      z += part;
      if (part > best.v) best = { c, v: part };
    }
    const s = B.s[o], t = B.t[o], P = r.P[i];
    dot.textContent = `Block ${k + 1}, channel ${o}, position (${y}, ${x}):` +
      (r.from ? `\n  max-pool: the largest of 4 conv outputs, the one at (${cy}, ${cx}) of the ${r.H}×${r.W} map` : '') +
      `\n  conv: patch · kernel = Σ over ${r.C} input channel${r.C > 1 ? 's' : ''} × 3×3 (${terms} products) = ${z.toFixed(4)}` +
      `  (the largest share: input channel ${best.c}, ${best.v.toFixed(4)})` +
      `\n  batch norm: ${s.toFixed(3)} × ${P.toFixed(4)} ${t >= 0 ? '+' : '−'} ${Math.abs(t).toFixed(3)} = ${(s * P + t).toFixed(4)}` +
      `\n  ReLU: ${r.A[i].toFixed(4)}`;
    return { z, pooled: P, value: r.A[i] };
  }
  function update() {
    paint(pad, W0, H0, i => { const v = Math.round(255 * grey[i]); return [v, v, v]; });
    current = forward(toInput(grey));
    let best = 0;
    current.probs.forEach((p, k) => {
      if (p > current.probs[best]) best = k;
      bars[k].r.dataset.p = String(p); bars[k].f.style.width = (100 * p).toFixed(1) + '%'; bars[k].v.textContent = (100 * p).toFixed(1) + '%';
    });
    answer.textContent = `${D.classes[best]} (${(100 * current.probs[best]).toFixed(1)}%)`;
    current.blocks.forEach((r, k) => {
      const v = views[k], size = Math.max(28, Math.min(56, 4 * r.w));
      while (v.maps.length < blocks[k].cOut) {
        const o = v.maps.length, m = el('canvas', { width: r.w, height: r.h }, v.row);
        m.style.width = m.style.height = size + 'px';
        m.addEventListener('click', () => showKernels(k, o));
        m.addEventListener('mousemove', ev => { const b = m.getBoundingClientRect();
          explain(k, o, Math.min(r.h - 1, Math.floor((ev.clientY - b.top) / b.height * r.h)), Math.min(r.w - 1, Math.floor((ev.clientX - b.left) / b.width * r.w))); });
        v.maps.push(m);
      }
      let top = 1e-12;
      for (const a of r.A) top = Math.max(top, a);   // one scale per block: channels compare
      v.maps.forEach((m, o) => paint(m, r.w, r.h, i => { const q = Math.round(255 * Math.sqrt(r.A[o * r.h * r.w + i] / top));
        return [q, Math.round(q * 0.85), Math.round(q * 0.4)]; }));
    });
  }
  let last = null;
  function strokeTo(p, q) { // a soft round pen about 2.5 pixels wide, as poke.js draws
    const steps = Math.max(1, Math.ceil(Math.hypot(q[0] - p[0], q[1] - p[1]) * 3));
    for (let s = 0; s <= steps; s++) {
      const cx = p[0] + (q[0] - p[0]) * s / steps, cy = p[1] + (q[1] - p[1]) * s / steps;
      for (let y = Math.max(0, Math.floor(cy - 2)); y < Math.min(H0, cy + 2); y++) for (let x = Math.max(0, Math.floor(cx - 2)); x < Math.min(W0, cx + 2); x++) {
        const v = Math.max(0, Math.min(1, 1.9 - Math.hypot(x + 0.5 - cx, y + 0.5 - cy)));
        grey[y * W0 + x] = Math.max(grey[y * W0 + x], v);
      }
    }
  }
  const at = ev => { const r = pad.getBoundingClientRect(); return [(ev.clientX - r.left) * W0 / r.width, (ev.clientY - r.top) * H0 / r.height]; };
  pad.addEventListener('pointerdown', ev => { pad.setPointerCapture(ev.pointerId); last = at(ev); strokeTo(last, last); update(); });
  pad.addEventListener('pointermove', ev => { if (!last) return; const p = at(ev); strokeTo(last, p); last = p; update(); });
  pad.addEventListener('pointerup', () => { last = null; });
  clearBtn.addEventListener('click', () => { grey.fill(0); update(); });
  function pick(k) { grey.set(samples.subarray(k * n, (k + 1) * n)); update(); }
  D.labels.forEach((label, k) => {
    const c = el('canvas', { width: W0, height: H0 }, thumbs); c.style.width = c.style.height = '28px'; c.style.cursor = 'pointer';
    c.title = `test image of ${D.classes[label]}`;
    paint(c, W0, H0, i => { const v = Math.round(255 * samples[k * n + i]); return [v, v, v]; });
    c.addEventListener('click', () => pick(k));
  });
  if (D.labels.length) pick(0); else update();
  showKernels(0, 0);

  window.nnlabCNN = {
    predict: rows => rows.map(x => forward(Float64Array.from(x)).probs),
    pick, explain, showKernels, setGrey(values) { grey.set(values); update(); },
    time(reps) { const x = toInput(grey), t0 = performance.now(); for (let r = 0; r < reps; r++) forward(x); return (performance.now() - t0) / reps; },
    state: () => ({ probs: current.probs, maps: current.blocks.map(r => Array.from(r.A)), dot: dot.textContent,
      kernels: kernelTitle.textContent }),
  };
})();
