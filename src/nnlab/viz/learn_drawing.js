// nnlab "One step on your drawing": under the report's "Poke the network" drawing pad, for the NumPy network.
// Choose what the drawing is: the page computes this one drawing's loss and, by backpropagation (learn.js,
// network.py's backward), its gradient with respect to every pixel and every weight; "one SGD step" moves
// every weight by -rate x its gradient (network.py's SGD, no L2: the loss of this drawing alone), in the
// float64 theta that poke.js predicts with, so the bars above move. A test hook: window.nnlabLearnDrawing.
(function () {
  'use strict';
  const P = window.nnlabPoke, N = window.nnlabLearn;
  if (!P || !N || P.kind !== 'image' || !P.net) return;
  const net = P.net, sizes = net.sizes, L = sizes.length - 1, k = sizes[L], h = P.h, w = P.w, n = h * w;
  const TRAINED = net.theta.slice(), ws = new N.Workspace(net, 1), dX = new Float64Array(n);
  const S = P.scaler, app = document.getElementById('poke-app');
  // d(model input)/d(grey level): the input is grey x pixel_max, then / pixel_max or standardised
  const slope = i => (S.kind === 'pixels' ? 1 : S.pixel_max / S.std[i]);

  function el(tag, attrs, parent, text) {
    const e = document.createElement(tag);
    for (const a in attrs || {}) e.setAttribute(a, attrs[a]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  const diverging = t => { // -1 blue, 0 white, +1 red (RdBu, as the report's figures)
    t = Math.max(-1, Math.min(1, t));
    const end = t < 0 ? [33, 102, 172] : [178, 24, 43], s = Math.abs(t);
    return [0, 1, 2].map(c => Math.round(255 + (end[c] - 255) * s));
  };
  function picture(canvas, value, top) { // value(i) / top on the diverging scale, one cell per pixel
    const g = canvas.getContext('2d'), img = g.createImageData(w, h);
    for (let i = 0; i < n; i++) img.data.set([...diverging(value(i) / top), 255], 4 * i);
    g.putImageData(img, 0, 0);
  }

  const box = el('div', { class: 'poke-col', id: 'learn-drawing' }, app.parentNode);
  box.style.marginTop = '1.2em';
  el('h4', {}, box, 'One step of backprop on your drawing');
  el('div', { class: 'poke-note' }, box, 'Say what your drawing is. The page computes the network\'s loss on ' +
    'this one drawing, L = −log p(true label), and by backpropagation its gradient: for every pixel (dL/dx, ' +
    'left) and for every weight. "One SGD step" moves every weight by −rate × its gradient (the loss of this ' +
    'drawing alone, no L2 term), as network.py\'s SGD would, and the bars above move. "Trained weights" puts ' +
    'the run\'s weights back.');
  const bar = el('div', {}, box);
  bar.style.cssText = 'display: flex; flex-wrap: wrap; gap: .5em; align-items: center;';
  const labelBox = el('label', {}, bar, 'True label ');
  const labelSel = el('select', { id: 'learn-drawing-label' }, labelBox);
  P.classes.forEach((name, c) => el('option', { value: String(c) }, labelSel, name));
  const rateBox = el('label', {}, bar, ' rate ');
  const rateSel = el('select', { id: 'learn-drawing-rate' }, rateBox);
  for (const r of [0.01, 0.03, 0.1, 0.3, 1]) el('option', { value: String(r) }, rateSel, String(r));
  rateSel.value = '0.1';
  const one = el('button', { type: 'button', id: 'learn-drawing-step' }, bar, 'One SGD step');
  const ten = el('button', { type: 'button', id: 'learn-drawing-ten' }, bar, 'Ten steps');
  const back = el('button', { type: 'button', id: 'learn-drawing-reset' }, bar, 'Trained weights');
  const line = el('div', { class: 'poke-big', id: 'learn-drawing-loss' }, box);
  line.style.fontSize = '1.1em';
  const row = el('div', { class: 'poke-units' }, box);
  const fx = el('figure', {}, row), gx = el('canvas', { width: w, height: h }, fx);
  gx.style.width = gx.style.height = '140px';
  el('figcaption', {}, fx, 'dL/dx: blue, brightening the pixel lowers the loss; red, raises it');
  const units = Array.from({ length: Math.min(4, sizes[1]) }, () => {
    const f = el('figure', {}, row), c = el('canvas', { width: w, height: h }, f);
    c.style.width = c.style.height = '84px';
    return { c, cap: el('figcaption', {}, f) };
  });
  el('div', { class: 'poke-note' }, box, 'Right: dL/dW1 of the first-layer units the step moves most (one ' +
    'scale; blue: the step raises the weight there, red: lowers it). For one drawing, dW1 = xᵀ·dZ1, so each ' +
    'unit\'s column is the drawing itself times that unit\'s dZ1: a step adds (or takes away) a faint copy of ' +
    'your drawing to the unit\'s weights. Ten steps at a high rate make the network sure of this one drawing; ' +
    'then pick a test image above and see what that did to the others.');

  let steps = 0, before = null, state = null;
  function input() { return Float64Array.from(P.state().input); }
  function lossNow(x, label) { // forward and backward on one drawing: L, p(label), and ws.grad filled
    const y = Int32Array.of(label);
    const Z_out = N.forward(net, x, ws, 1);
    const loss = N.logLoss(Z_out, y, k === 1, 1, k);
    const p = k === 1 ? [1 - N.sigmoid(Z_out[0]), N.sigmoid(Z_out[0])] : Array.from(N.probabilities(Z_out, false, 1, k, new Float64Array(k)));
    N.backward(net, x, y, ws, 1, 0);
    // dX = dZ1·W1ᵀ: backward's next equation, one layer further than the weights need
    const dZ1 = ws.dZ[0], W1 = net.W[0], n1 = sizes[1];
    for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < n1; j++) s += dZ1[j] * W1[i * n1 + j]; dX[i] = s; }
    return { loss, p: p[label] };
  }
  function show() {
    const label = +labelSel.value, x = input();
    state = lossNow(x, label);
    const name = P.classes[label];
    line.textContent = `L = ${state.loss.toFixed(3)} · p(${name}) = ${(100 * state.p).toFixed(1)}%` +
      (before && steps ? ` (before ${steps} step${steps > 1 ? 's' : ''}: L = ${before.loss.toFixed(3)}, ` +
        `p = ${(100 * before.p).toFixed(1)}%)` : '');
    let top = 1e-12;
    for (let i = 0; i < n; i++) top = Math.max(top, Math.abs(dX[i] * slope(i)));
    picture(gx, i => dX[i] * slope(i), top);
    const dZ1 = ws.dZ[0], order = Array.from(dZ1.keys()).sort((a, b) => Math.abs(dZ1[b]) - Math.abs(dZ1[a]));
    let xtop = 1e-12; // one scale for the units' pictures: their sizes compare
    for (let i = 0; i < n; i++) xtop = Math.max(xtop, Math.abs(x[i]));
    const wtop = xtop * Math.max(1e-12, Math.abs(dZ1[order[0]]));
    units.forEach((u, t) => {
      const j = order[t], dz = dZ1[j];
      u.cap.textContent = dz ? `unit ${j}: dZ1 = ${dz.toExponential(1)}` : `unit ${j}: off (dZ1 = 0)`;
      picture(u.c, i => x[i] * dz, wtop);
    });
  }
  function sgd(times) { // each step: backward on the drawing, then theta -= rate·grad (network.py's SGD)
    const label = +labelSel.value, x = input(), opt = new N.SGD(net.theta, +rateSel.value);
    if (!steps) before = lossNow(x, label);
    for (let t = 0; t < times; t++) { lossNow(x, label); opt.step(ws.grad); steps++; }
    P.update(); // poke.js predicts with the same theta: its bars, units and our line all follow
  }
  one.addEventListener('click', () => sgd(1));
  ten.addEventListener('click', () => sgd(10));
  back.addEventListener('click', () => { net.theta.set(TRAINED); steps = 0; before = null; P.update(); });
  labelSel.addEventListener('change', () => { steps = 0; before = null; show(); });
  app.addEventListener('poke-update', show);
  show();

  window.nnlabLearnDrawing = {
    setLabel(c) { labelSel.value = String(c); labelSel.dispatchEvent(new Event('change')); },
    setRate(r) { rateSel.value = String(r); },
    step: times => { sgd(times || 1); return window.nnlabLearnDrawing.state(); },
    reset: () => back.click(),
    time(reps) { // ms per step on the drawing (forward, backward, the update), without redrawing
      const x = input(), label = +labelSel.value, keep = net.theta.slice(), opt = new N.SGD(net.theta, 1e-9);
      const t0 = performance.now();
      for (let r = 0; r < reps; r++) { lossNow(x, label); opt.step(ws.grad); }
      const ms = (performance.now() - t0) / reps;
      net.theta.set(keep);
      return ms;
    },
    state: () => ({ loss: state.loss, p: state.p, label: +labelSel.value, steps, dX: Array.from(dX),
      theta: Array.from(net.theta), text: line.textContent }),
  };
})();
