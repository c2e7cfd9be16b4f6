// nnlab "Train it here": the page around learn.js. Play / pause / step / reset (the run's own random start),
// start from the trained weights, the learning rate, batch size, L2 strength, optimiser and schedule; the
// decision field, the hidden units' fields and the loss curves redrawn while the network trains. Another
// 2-D set, noise or hidden sizes make a new world: data and a random start drawn in the page, from a seed.
// A test hook, window.nnlabLearnPage, drives it as the buttons do and reads back what it shows.
(function () {
  'use strict';
  const N = window.nnlabLearn, D = JSON.parse(document.getElementById('learn-data').textContent);
  const app = document.getElementById('learn-app');
  const S0 = D.settings, nClasses = D.classes.length, MAX_PARAMETERS = D.max_parameters;
  const OPTIMISER_NAMES = { sgd: 'SGD', momentum: `momentum ${S0.momentum}`, adam: 'Adam' };

  function floats(b64) { // little-endian float32 as written, widened to float64 (exactly)
    const s = atob(b64), u = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
    return Float64Array.from(new Float32Array(u.buffer));
  }
  function bounds(A, B) { // the plane: both sets' range on each axis, 15% of it added on each side
    const lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
    for (const P of [A, B]) for (let i = 0; i < P.length; i++) {
      lo[i % 2] = Math.min(lo[i % 2], P[i]); hi[i % 2] = Math.max(hi[i % 2], P[i]);
    }
    return [lo.map((v, c) => v - 0.15 * (hi[c] - v)), hi.map((v, c) => v + 0.15 * (v - lo[c]))];
  }
  // A world: the data, the network's sizes, its start (and trained weights, for the run's own world).
  const RUN = {
    name: 'run', sizes: D.sizes, X: floats(D.X), y: Int32Array.from(D.y), X_test: floats(D.X_test),
    y_test: Int32Array.from(D.y_test), start: floats(D.start), trained: floats(D.trained), lo: D.lo, hi: D.hi,
  };
  let world = RUN;

  // ---- small DOM helpers ------------------------------------------------------------------------------
  function el(tag, attrs, parent, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function choice(parent, label, id, options, value) { // a labelled <select>; options: [[value, text], ...]
    const box = el('label', {}, parent, label + ' ');
    const s = el('select', { id }, box);
    for (const [v, t] of options) el('option', { value: String(v) }, s, t);
    s.value = String(value);
    return s;
  }
  const withValue = (list, v) => [...new Set([...list, v])].sort((a, b) => a - b);
  const { diverging, unitColour, contour, lossCurves } = N.plots, classColour = k => N.plots.classColour(k, nClasses);

  // ---- controls -------------------------------------------------------------------------------------
  const bar = el('div', { class: 'learn-bar' }, app);
  const playBtn = el('button', { type: 'button', id: 'learn-play', title: 'play / pause (space)' }, bar, '▶ Play');
  const stepBtn = el('button', { type: 'button', id: 'learn-step', title: 'one step (S or →)' }, bar, 'Step');
  const resetBtn = el('button', { type: 'button', id: 'learn-reset', title: 'back to the random start (R)' }, bar,
    "Reset to the run's start");
  const trainedBtn = el('button', { type: 'button', id: 'learn-trained', title: 'the weights the run ended with (T)' },
    bar, 'Start from the trained weights');
  const wrongBtn = el('button', { type: 'button', id: 'learn-wrong', title: 'the trained weights with the ' +
    "output layer's sign flipped: every prediction confidently wrong (W)" }, bar, 'Confidently wrong start');
  const status = el('span', { class: 'learn-big', id: 'learn-status', 'aria-live': 'off' }, bar);
  const bar2 = el('div', { class: 'learn-bar' }, app);
  const lrSel = choice(bar2, 'Learning rate', 'learn-lr', withValue([1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1,
    0.3, 1, 3, 10], S0.lr).map(v => [v, String(v)]), S0.lr);
  const bsSel = choice(bar2, 'Batch size', 'learn-batch', [], 0);
  const l2Sel = choice(bar2, 'L2 α', 'learn-l2', withValue([0, 1e-4, 1e-3, 0.01, 0.03, 0.1, 0.3, 1, 3], S0.alpha)
    .map(v => [v, v === S0.alpha && v ? `${+v.toPrecision(3)} (the run's)` : String(v)]), S0.alpha);
  const optSel = choice(bar2, 'Optimiser', 'learn-opt', Object.entries(OPTIMISER_NAMES), S0.optimizer);
  const lossSel = choice(bar2, 'Loss', 'learn-loss', [['log', 'log loss'], ['mse', 'squared error']], 'log');
  if (D.sizes[D.sizes.length - 1] !== 1) lossSel.parentNode.style.display = 'none'; // the sigmoid network's choice
  // the hidden layers' g: the run's, or another, live (sigmoid and tanh saturate: the vanishing-gradient lesson)
  const actSel = choice(bar2, 'Hidden units', 'learn-activation', [['relu', 'ReLU'], ['tanh', 'tanh'],
    ['logistic', 'sigmoid'], ['identity', 'linear']], D.activation || 'relu');
  const schedSel = choice(bar2, 'Rate', 'learn-schedule', [['run', `the run's: ${S0.schedule} over ${S0.epochs} epochs`],
    ['constant', 'constant']], 'run');
  const bar3 = el('div', { class: 'learn-bar' }, app);
  const dataSel = choice(bar3, 'Data', 'learn-data-set', [['run', "the run's"], ...Object.keys(N.GENERATORS)
    .map(k => [k, k])], 'run');
  const noiseSel = choice(bar3, 'noise', 'learn-noise', [0, 0.05, 0.1, 0.2, 0.3, 0.5].map(v => [v, String(v)]), 0.2);
  const hiddenBox = el('label', {}, bar3, 'hidden sizes ');
  const hiddenIn = el('input', { id: 'learn-hidden', size: 9, value: D.sizes.slice(1, -1).join(','),
    'aria-describedby': 'learn-world-note' }, hiddenBox);
  const worldBtn = el('button', { type: 'button', id: 'learn-new' }, bar3, 'New data and network');
  const worldNote = el('span', { class: 'learn-note', id: 'learn-world-note', role: 'status' }, bar3);
  function batchOptions() { // the run's batch size and the usual ones below the set's size, and the whole set
    const n = world.y.length, keep = +bsSel.value || S0.batch_size;
    bsSel.textContent = '';
    for (const v of [...new Set([1, 8, 32, 128, 512, S0.batch_size])].filter(v => v < n).sort((a, b) => a - b))
      el('option', { value: String(v) }, bsSel, String(v));
    el('option', { value: String(n) }, bsSel, `all ${n}`);
    bsSel.value = String(Math.min(keep, n));
    if (!bsSel.value) bsSel.value = String(n);
  }
  batchOptions();

  const app2 = el('div', { class: 'learn-app' }, app);
  const left = el('div', { class: 'learn-col plane' }, app2), right = el('div', { class: 'learn-col side' }, app2);
  const SIZE = 400, plane = el('canvas', { width: SIZE, height: SIZE, id: 'learn-plane',
    role: 'img', 'aria-label': 'the decision field over the plane, with the training points' }, left);
  const pg = plane.getContext('2d');
  const showTest = el('input', { type: 'checkbox', id: 'learn-show-test' }, el('label', {}, left, ''));
  showTest.parentNode.append(' show the test points (rings) instead of the training points');
  const FIELD_NOTE = nClasses === 2 ? `Colour: the probability of ${D.classes[1]} (red) against ${D.classes[0]} ` +
    '(blue); the black line is p = 0.5, the decision boundary.' : "Colour: each class's probability mixes its colour.";
  const fieldNote = el('div', { class: 'learn-note', id: 'learn-field-note' }, left);
  el('div', { class: 'learn-note' }, left, 'Keys: space play/pause, S or → one step, R reset, T trained weights, ' +
    'W confidently wrong.');
  const numbers = el('div', { class: 'learn-numbers', id: 'learn-numbers' }, right);
  const runLine = el('div', { class: 'learn-note', id: 'learn-run' }, right);
  const CW = 520, CH = 230, curve = el('canvas', { width: CW, height: CH, id: 'learn-curve', role: 'img',
    'aria-label': 'the loss curves' }, right);
  const cg = curve.getContext('2d');
  const legend = el('div', { class: 'learn-note' }, right);
  const runKeys = [];
  for (const [colour, text, dash] of [['#1f77b4', 'training loss (this page)', false],
    ['#ff7f0e', 'test loss (this page)', false], ['#aaa', "the run's training loss (NumPy)", false],
    ['#aaa', "the run's validation loss", true]]) {
    const item = el('span', {}, legend), key = el('span', { class: 'learn-key' }, item);
    key.style.borderTopColor = colour; if (dash) key.style.borderTopStyle = 'dashed';
    item.append(text + '\u2003');
    if (colour === '#aaa') runKeys.push(item);
  }
  const scrubBox = el('div', { class: 'learn-bar' }, right);
  const scrubLabel = el('label', { for: 'learn-epoch' }, scrubBox, 'Rewind: epoch');
  const scrubIn = el('input', { type: 'range', id: 'learn-epoch', min: 0, max: 0, value: 0, step: 1 }, scrubBox);
  scrubIn.style.width = '220px';
  const liveBtn = el('button', { type: 'button', id: 'learn-live' }, scrubBox, 'Live');
  const fromHereBtn = el('button', { type: 'button', id: 'learn-from-here' }, scrubBox, 'Train on from here');
  const scrubNote = el('div', { class: 'learn-note', id: 'learn-scrub-note' }, right);
  const unitsHead = el('h4', {}, right, 'What the hidden units see: ');
  const layerSel = el('select', { id: 'learn-layer' }, unitsHead);
  el('div', { class: 'learn-note' }, right, 'Each tile: one unit\'s activation over the same plane (white: off; ' +
    'the darker, the stronger), for the units the next layer leans on most (largest |weight| out of the unit), ' +
    'that weight below. Watch them change as the boundary forms: the next layer adds these pictures up. Click a ' +
    'tile to paint its unit over the big plane (the black line: where it switches on); click it again to go back.');
  const unitsBox = el('div', { class: 'learn-units', id: 'learn-units' }, right);

  // ---- the training state ---------------------------------------------------------------------------
  // Every epoch's weights of the page's run, for the rewind slider: float64 copies up to KEEP_BYTES, then every
  // other one is dropped (epoch 0 and the newest stay), and the note says how far apart the kept ones are.
  const KEEP_BYTES = 64e6;
  let kept = [], keptEvery = 1, scrub = -1, scrubNet = null;
  function keep(epoch) {
    if (epoch % keptEvery) return;
    kept.push({ epoch, theta: net.theta.slice() });
    if (kept.length * net.theta.length * 8 > KEEP_BYTES) {
      keptEvery *= 2;
      kept = kept.filter((q, i) => q.epoch % keptEvery === 0 || i === kept.length - 1);
    }
  }
  const viewed = () => (scrub >= 0 ? scrubNet : net); // the network the pictures show
  let net, opt, runner, rng, history, steps, fromTrained, wrongStart = false, playing = false, lastTest = null, doneNote = '', evalWs;
  function settings() {
    return { lr: +lrSel.value, batch: +bsSel.value, alpha: +l2Sel.value, optimizer: optSel.value,
      schedule: schedSel.value === 'run' ? S0.schedule : 'constant', loss: lossSel.value, data: dataSel.value,
      sizes: world.sizes, activation: actSel.value };
  }
  function rate(epoch) { // the rate for the page's epoch `epoch` (0-based), as the engine sets it per epoch
    const lr = +lrSel.value;
    return schedSel.value === 'constant' ? lr : N.SCHEDULES[S0.schedule](lr, Math.min(epoch / S0.epochs, 1));
  }
  function makeOptimizer() {
    return N.OPTIMIZERS[optSel.value](net.theta, { lr: rate(runner ? runner.epoch : 0), momentum: S0.momentum,
      nesterov: S0.nesterov });
  }
  function begin(theta, trained) { // a fresh start: these weights, empty optimiser state, the seed's batches
    net = new N.Network(world.sizes, theta, actSel.value);
    evalWs = new N.Workspace(net, 256);
    rng = new N.Random(S0.seed + 1);
    runner = null;
    opt = makeOptimizer();
    runner = new N.Runner(net, opt, world.X, world.y, world.y.length, +bsSel.value, +l2Sel.value, rng, lossSel.value);
    history = []; steps = 0; fromTrained = trained; doneNote = ''; wrongStart = false;
    kept = []; keptEvery = 1; scrub = -1; keep(0);
    if (trained) schedSel.value = 'constant'; // the run's schedule ended at a rate near 0
    lastTest = N.evaluate(net, world.X_test, world.y_test, world.y_test.length, evalWs);
    history.push({ epoch: 0, loss: N.evaluate(net, world.X, world.y, world.y.length, evalWs).loss, test: lastTest.loss,
      accuracy: lastTest.accuracy });
    opt.lr = rate(0);
    trainedBtn.disabled = world !== RUN;
    wrongBtn.disabled = world !== RUN || world.sizes[world.sizes.length - 1] !== 1;
    resetBtn.textContent = world === RUN ? "Reset to the run's start" : 'Reset to this start';
    draw();
  }
  function step() { // one batch: forward, backward, the optimiser's step
    if (scrub >= 0) { scrub = -1; scrubNet = null; } // training goes on from the live weights, shown again
    opt.lr = rate(runner.epoch);
    const r = runner.step();
    steps++;
    if (r.finished) {
      lastTest = N.evaluate(net, world.X_test, world.y_test, world.y_test.length, evalWs);
      history.push({ epoch: r.finished.epoch, loss: r.finished.loss, test: lastTest.loss, accuracy: lastTest.accuracy });
      keep(r.finished.epoch);
      if (schedSel.value === 'run' && r.finished.epoch >= S0.epochs) {
        pause();
        doneNote = `The ${S0.epochs} epochs of the run's schedule are done: the page reaches a test accuracy of ` +
          `${(100 * lastTest.accuracy).toFixed(1)}%. Play again to go on at a constant rate.`;
        schedSel.value = 'constant';
      }
    }
    return r;
  }
  function newWorld() { // another set, noise or hidden sizes: data and a start drawn from the run's seed
    const sizes = hiddenIn.value.split(',').map(s => s.trim()).filter(Boolean).map(Number);
    if (!sizes.length || sizes.length > 6 || !sizes.every(k => Number.isInteger(k) && k >= 1 && k <= 512)) {
      worldNote.textContent = 'Hidden sizes: 1 to 6 whole numbers from 1 to 512, such as 8,8.';
      return false;
    }
    const full = [2, ...sizes, nClasses === 2 ? 1 : nClasses];
    if (N.parameterCount(full) > MAX_PARAMETERS) {
      worldNote.textContent = `${full.join('-')} has ${N.parameterCount(full).toLocaleString('en')} parameters; ` +
        `the page trains up to ${MAX_PARAMETERS.toLocaleString('en')}.`;
      return false;
    }
    const same = dataSel.value === 'run' && full.join() === RUN.sizes.join();
    if (same) world = RUN;
    else {
      const g = new N.Random(S0.seed + 7);
      let data = RUN;
      if (dataSel.value !== 'run') {
        const train = N.generate(dataSel.value, 1000, +noiseSel.value, g);
        const test = N.generate(dataSel.value, 500, +noiseSel.value, g, train);
        data = { X: train.X, y: train.y, X_test: test.X, y_test: test.y };
        if (nClasses !== 2) { worldNote.textContent = 'The 2-D sets have two classes; this run has more.'; return false; }
      }
      const [lo, hi] = data === RUN ? [RUN.lo, RUN.hi] : bounds(data.X, data.X_test);
      world = { name: dataSel.value, sizes: full, X: data.X, y: data.y, X_test: data.X_test, y_test: data.y_test,
        start: N.heStart(full, g), trained: null, lo, hi };
    }
    worldNote.textContent = same ? "The run's own data and network." : `${dataSel.value === 'run' ? "The run's data" :
      `${dataSel.value}, noise ${noiseSel.value}`}, network ${full.join('-')}: a new random start (seeded: reset ` +
      'returns to it).';
    schedSel.value = same ? 'run' : 'constant';
    batchOptions();
    makeTiles();
    begin(world.start, false);
    return true;
  }

  // ---- the field: the network over a G x G grid of the plane, its hidden units kept -------------------
  // Its cost is G² forward passes, most of it in the widest hidden product, so two grids: a coarse one while
  // training plays (its forward pass ~1.2e7 multiply-adds, a few ms, so the frame stays for training) and a
  // fine one once it stops. The browser's smoothing and the contour interpolate between cell centres.
  const grids = {};
  function macs(sizes) { return sizes.slice(1).reduce((s, k, l) => s + sizes[l] * k, 0); }
  const gLive = () => Math.max(20, Math.min(50, Math.floor(Math.sqrt(1.2e7 / macs(world.sizes)))));
  const gStill = () => Math.max(gLive(), Math.min(72, Math.floor(Math.sqrt(6e7 / macs(world.sizes)))));
  function gridOf(G) { // cell centres as model inputs (the plane's y axis points up), and buffers for G²
    const key = `${G}:${world.sizes.join('-')}:${world.lo}:${world.hi}`;
    if (grids[key]) return grids[key];
    const X = new Float64Array(G * G * 2), lo = world.lo, hi = world.hi;
    for (let gy = 0; gy < G; gy++) for (let gx = 0; gx < G; gx++) {
      X[2 * (gy * G + gx)] = lo[0] + (gx + 0.5) / G * (hi[0] - lo[0]);
      X[2 * (gy * G + gx) + 1] = hi[1] - (gy + 0.5) / G * (hi[1] - lo[1]);
    }
    const small = el('canvas', { width: G, height: G }), g = small.getContext('2d');
    grids[key] = { G, X, P: new Float64Array(G * G * world.sizes[world.sizes.length - 1]),
      ws: new N.Workspace(net, G * G), small, g, img: g.createImageData(G, G) };
    return grids[key];
  }
  const toPx = (u, v) => [(u - world.lo[0]) / (world.hi[0] - world.lo[0]) * SIZE,
    (world.hi[1] - v) / (world.hi[1] - world.lo[1]) * SIZE];
  let tiles = [], unitLayer = 0, pinned = null;
  function makeTiles(keepLayer) { // the layer's menu and up to 24 tiles (every unit of a small layer)
    const sizes = world.sizes, L = sizes.length - 1;
    if (!keepLayer) {
      layerSel.textContent = '';
      for (let l = 0; l < L - 1; l++) el('option', { value: String(l) }, layerSel, `hidden layer ${l + 1} (${sizes[l + 1]} units)`);
      unitLayer = Math.max(0, L - 2); layerSel.value = String(unitLayer);
      unitsHead.style.display = L > 1 ? '' : 'none';
    }
    pinned = null;
    unitsBox.textContent = '';
    const count = L > 1 ? Math.min(24, sizes[unitLayer + 1]) : 0, px = count > 12 ? 64 : 80;
    tiles = Array.from({ length: count }, () => {
      const f = el('figure', {}, unitsBox), c = el('canvas', { width: 1, height: 1 }, f);
      c.style.width = c.style.height = px + 'px'; c.style.cursor = 'pointer';
      const tile = { c, g: c.getContext('2d'), cap: el('figcaption', {}, f), j: -1 };
      c.addEventListener('click', () => {
        pinned = pinned && pinned.j === tile.j && pinned.l === unitLayer ? null : { l: unitLayer, j: tile.j };
        draw();
      });
      return tile;
    });
  }
  layerSel.addEventListener('change', () => { unitLayer = +layerSel.value; makeTiles(true); draw(); });
  makeTiles();
  let fieldG = 0;
  function paintField(G) {
    const F = gridOf(G), P = F.P, img = F.img, sizes = world.sizes, L = sizes.length - 1, binary = sizes[L] === 1;
    fieldG = G;
    const Z_out = N.forward(viewed(), F.X, F.ws, G * G);
    N.probabilities(Z_out, binary, G * G, sizes[L], P);
    const unitA = pinned ? F.ws.A[pinned.l] : null, h = pinned ? sizes[pinned.l + 1] : 0;
    let unitTop = 1e-12;
    if (pinned) for (let i = 0; i < G * G; i++) unitTop = Math.max(unitTop, unitA[i * h + pinned.j]);
    for (let i = 0; i < G * G; i++) {
      let c;
      if (pinned) c = unitColour(unitA[i * h + pinned.j] / unitTop);
      else if (binary) c = diverging((2 * P[i] - 1) * 0.8);
      else {
        c = [255, 255, 255];
        for (let q = 0; q < nClasses; q++) for (let m = 0; m < 3; m++) c[m] -= (255 - classColour(q)[m]) * P[i * nClasses + q] * 0.55;
      }
      img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2]; img.data[4 * i + 3] = 255;
    }
    F.g.putImageData(img, 0, 0);
    pg.imageSmoothingEnabled = true;
    pg.drawImage(F.small, 0, 0, G, G, 0, 0, SIZE, SIZE);
    fieldNote.textContent = pinned ? `Colour: the activation of unit ${pinned.j} of hidden layer ${pinned.l + 1} ` +
      '(white: off; black line: where it switches on). Click its tile again for the probability.' : FIELD_NOTE;
    if (pinned) contour(pg, unitZ(F, pinned.l, pinned.j), 0, G, SIZE);
    else if (binary) contour(pg, P, 0.5, G, SIZE);
    if (showTest.checked) N.plots.points(pg, world.X_test, world.y_test, nClasses, toPx, true);
    else N.plots.points(pg, world.X, world.y, nClasses, toPx, false);
    paintUnits(F);
  }
  function unitZ(F, l, j) { // the unit's input Z = A_prev·W[:, j] + b[j] over the grid: smooth, so its zero
    // line is where the unit switches on (its activation, ReLU(Z), is flat 0 on one side)
    const v = viewed(), G = F.G, nIn = world.sizes[l], nOut = world.sizes[l + 1], W = v.W[l], A_prev = l ? F.ws.A[l - 1] : F.X;
    const Z = new Float64Array(G * G);
    for (let i = 0; i < G * G; i++) {
      let z = v.b[l][j];
      for (let c = 0; c < nIn; c++) z += A_prev[i * nIn + c] * W[c * nOut + j];
      Z[i] = z;
    }
    return Z;
  }
  function paintUnits(F) { // the chosen hidden layer's units over the grid (F.ws.A[l], kept by forward)
    if (!tiles.length) return;
    const sizes = world.sizes, G = F.G, A = F.ws.A[unitLayer], h = sizes[unitLayer + 1];
    const Wout = viewed().W[unitLayer + 1], k = sizes[unitLayer + 2], binary = k === 1;
    const lean = Array.from({ length: h }, (_, j) => { let s = 0; for (let q = 0; q < k; q++) s += Math.abs(Wout[j * k + q]); return s; });
    const order = Array.from(lean.keys()).sort((a, b) => lean[b] - lean[a]).slice(0, tiles.length);
    order.forEach((j, t) => {
      let top = 1e-12;
      for (let i = 0; i < G * G; i++) top = Math.max(top, A[i * h + j]);
      if (tiles[t].c.width !== G) tiles[t].c.width = tiles[t].c.height = G;
      const im = tiles[t].g.createImageData(G, G);
      for (let i = 0; i < G * G; i++) im.data.set([...unitColour(A[i * h + j] / top), 255], 4 * i);
      tiles[t].g.putImageData(im, 0, 0);
      tiles[t].j = j;
      tiles[t].c.style.outline = pinned && pinned.l === unitLayer && pinned.j === j ? '3px solid #0af' : '';
      tiles[t].cap.textContent = `unit ${j}: ${binary ? (Wout[j] >= 0 ? '+' : '−') + Math.abs(Wout[j]).toFixed(2) : lean[j].toFixed(2)}`;
    });
  }

  // ---- the loss curves: this page's (per epoch) and the run's own -----------------------------------
  function paintCurves() {
    const run = D.run, showRun = world === RUN && !fromTrained;
    const epochs = Math.max(showRun ? S0.epochs : 10, history[history.length - 1].epoch, 1);
    runKeys.forEach(k => { k.style.display = showRun ? '' : 'none'; });
    const byEpoch = values => values.map((_, i) => i + 1), xs = history.map(q => q.epoch);
    lossCurves(cg, CW, CH, (showRun ? [{ values: run.loss, xs: byEpoch(run.loss), colour: '#aaa' },
      { values: run.val_loss, xs: byEpoch(run.val_loss), colour: '#aaa', dash: true }] : []).concat(
      { values: history.map(q => q.loss), xs, colour: '#1f77b4' }, { values: history.map(q => q.test), xs, colour: '#ff7f0e' }),
    epochs, scrub >= 0 ? kept[scrub].epoch : null);
  }

  // ---- drawing and the play loop --------------------------------------------------------------------
  let rateShown = 0, stamps = [], still = 0;
  function draw(fine) { // the coarse field now; the fine one once nothing has changed for a moment
    clearTimeout(still);
    paintField(fine ? gStill() : gLive());
    if (!fine && !playing) still = setTimeout(() => { if (!playing) draw(true); }, 250);
    paintCurves();
    scrubIn.max = String(kept.length - 1);
    scrubIn.value = String(scrub >= 0 ? scrub : kept.length - 1);
    scrubLabel.textContent = `Rewind: epoch ${scrub >= 0 ? kept[scrub].epoch : kept[kept.length - 1].epoch} `;
    scrubNote.textContent = scrub >= 0 ? `The pictures show the network after epoch ${kept[scrub].epoch} of this page's ` +
      'run (the grey line on the curves). "Live" goes back to where training is; "Train on from here" rewinds ' +
      'the run to it (with a fresh optimiser state).' : 'Drag the slider to see the field and the hidden units at ' +
      `an earlier epoch of this page's run${keptEvery > 1 ? ` (every ${keptEvery}th epoch kept, to stay under ` +
      `${KEEP_BYTES / 1e6} MB)` : ''}.`;
    const n = world.y.length, ep = runner.epoch + (runner.order ? runner.at / n : 0);
    const then = scrub >= 0 ? history.find(q => q.epoch === kept[scrub].epoch) : null;
    const last = then || history[history.length - 1], test = then ? { loss: then.test, accuracy: then.accuracy } : lastTest;
    numbers.textContent = then ? `at epoch ${then.epoch}: ` : '';
    el('b', {}, numbers, `test accuracy ${(100 * test.accuracy).toFixed(1)}%`);
    numbers.append(` · test loss ${test.loss.toFixed(3)} · training loss ${last.loss.toFixed(3)}`);
    status.textContent = `epoch ${ep.toFixed(1)} · step ${steps} · rate ${+opt.lr.toPrecision(3)}` +
      (playing && rateShown ? ` · ${Math.round(rateShown)} steps/s` : '');
    const mse = lossSel.value === 'mse' ? ' Training on the squared error (the curves still show the log loss, as ' +
      'the CLI\'s do).' : '';
    runLine.textContent = (doneNote || (world !== RUN ? 'A network of the page\'s own: no run to compare with.' :
      wrongStart ? 'From a confidently wrong start: the trained network with its output turned around and made ' +
        'four times surer, every answer wrong and sure of it. With the log loss dZ = A − Y is large here and it ' +
        'recovers in a few epochs; with the squared error dZ = (A − Y)·A(1 − A) is almost 0 where the sigmoid ' +
        'saturates, and it barely moves. Try both with SGD (Adam divides each gradient by its own size, which ' +
        'hides part of the difference).' :
      fromTrained ? 'Training on from the weights the run ended with.' :
        `The run in NumPy reached a test accuracy of ${(100 * D.run.test_accuracy).toFixed(1)}% after ${S0.epochs} ` +
        `epochs (${OPTIMISER_NAMES[S0.optimizer]}, rate ${S0.lr}, batch ${S0.batch_size}, L2 α ${+S0.alpha.toPrecision(3)}).`)) + mse;
  }
  // Each frame trains for as long as its redraw takes (10 ms at least): about half the time learns, and the
  // picture still moves a few dozen times a second.
  let drawMs = 10;
  function frame() {
    if (!playing) return;
    const t0 = performance.now();
    let k = 0;
    do { step(); k++; } while (playing && performance.now() - t0 < Math.max(10, drawMs));
    const now = performance.now();
    stamps.push([now, k]);
    while (stamps.length > 1 && now - stamps[0][0] > 1000) stamps.shift();
    if (stamps.length > 1) rateShown = stamps.slice(1).reduce((s, q) => s + q[1], 0) / ((now - stamps[0][0]) / 1000);
    draw();
    drawMs = performance.now() - now;
    if (playing) requestAnimationFrame(frame);
  }
  function play() {
    if (playing) return;
    if (scrub >= 0) { scrub = -1; scrubNet = null; }
    playing = true; stamps = []; playBtn.textContent = '❚❚ Pause'; playBtn.classList.add('on');
    requestAnimationFrame(frame);
  }
  function pause() {
    const was = playing;
    playing = false; playBtn.textContent = '▶ Play'; playBtn.classList.remove('on');
    if (was) draw();
  }
  playBtn.addEventListener('click', () => (playing ? pause() : play()));
  stepBtn.addEventListener('click', () => { pause(); step(); draw(); });
  resetBtn.addEventListener('click', () => { pause(); schedSel.value = world === RUN ? 'run' : 'constant'; begin(world.start, false); });
  trainedBtn.addEventListener('click', () => { if (world.trained) { pause(); begin(world.trained, true); } });
  // z -> -WRONG·z: the trained features, every answer turned around and made surer (p of the right class
  // ~1e-4 where the trained network said 0.9: far into the sigmoid's flat tail, where the argument is)
  const WRONG = 4;
  wrongBtn.addEventListener('click', () => {
    if (wrongBtn.disabled) return;
    pause();
    const theta = world.trained.slice(), sizes = world.sizes, out = N.parameterCount(sizes) - (sizes[sizes.length - 2] + 1);
    for (let q = out; q < theta.length; q++) theta[q] *= -WRONG; // the output layer's W and b
    begin(theta, true);
    wrongStart = true;
    draw();
  });
  lossSel.addEventListener('change', () => { runner.loss = lossSel.value; draw(); });
  actSel.addEventListener('change', () => { // the same weights through another g, trained on from here
    net.activation = actSel.value;
    if (scrubNet) scrubNet.activation = actSel.value;
    lastTest = N.evaluate(net, world.X_test, world.y_test, world.y_test.length, evalWs);
    draw();
  });
  worldBtn.addEventListener('click', () => { pause(); newWorld(); });
  hiddenIn.addEventListener('keydown', ev => { if (ev.key === 'Enter') worldBtn.click(); });
  dataSel.addEventListener('change', () => {
    if (N.DEFAULT_NOISE[dataSel.value] !== undefined) noiseSel.value = String(N.DEFAULT_NOISE[dataSel.value]);
  });
  lrSel.addEventListener('change', () => { opt.lr = rate(runner.epoch); draw(); });
  l2Sel.addEventListener('change', () => { runner.alpha = +l2Sel.value; });
  bsSel.addEventListener('change', () => { // a new batch size starts a new pass over the data
    const epoch = runner.epoch;
    runner = new N.Runner(net, opt, world.X, world.y, world.y.length, +bsSel.value, +l2Sel.value, rng, lossSel.value);
    runner.epoch = epoch;
    draw();
  });
  optSel.addEventListener('change', () => { // a new optimiser starts with empty state (no velocity, no moments)
    opt = makeOptimizer();
    runner.optimizer = opt;
    draw();
  });
  schedSel.addEventListener('change', () => { opt.lr = rate(runner.epoch); draw(); });
  showTest.addEventListener('change', () => draw());
  function scrubTo(i) { // i: index into `kept`; the newest one is live
    i = Math.max(0, Math.min(kept.length - 1, i));
    pause();
    scrub = i === kept.length - 1 ? -1 : i;
    scrubNet = scrub >= 0 ? new N.Network(world.sizes, kept[scrub].theta, actSel.value) : null;
    draw();
  }
  scrubIn.addEventListener('input', () => scrubTo(+scrubIn.value));
  liveBtn.addEventListener('click', () => scrubTo(kept.length - 1));
  fromHereBtn.addEventListener('click', () => { // rewind: the weights of that epoch, its history, a new optimiser
    if (scrub < 0) return;
    const at = kept[scrub], keepHistory = history.filter(q => q.epoch <= at.epoch), keepKept = kept.slice(0, scrub + 1);
    const every = keptEvery, trained = fromTrained, wrong = wrongStart;
    begin(at.theta, trained);
    history = keepHistory; kept = keepKept; keptEvery = every; wrongStart = wrong;
    runner.epoch = at.epoch;
    lastTest = N.evaluate(net, world.X_test, world.y_test, world.y_test.length, evalWs);
    draw();
  });
  app.addEventListener('keydown', ev => {
    const tag = ev.target.tagName;
    if (tag === 'SELECT' || tag === 'INPUT' || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const key = ev.key.toLowerCase();
    if (key === ' ' && tag !== 'BUTTON') playBtn.click();
    else if (key === 's' || key === 'arrowright') stepBtn.click();
    else if (key === 'r') resetBtn.click();
    else if (key === 't') trainedBtn.click();
    else if (key === 'w') wrongBtn.click();
    else return;
    ev.preventDefault();
  });
  app.addEventListener('pointerdown', () => { if (!app.contains(document.activeElement)) app.focus({ preventScroll: true }); });
  begin(world.start, false);

  window.nnlabLearnPage = {
    scrubTo, fromHere: () => fromHereBtn.click(),
    play, pause, reset: () => resetBtn.click(), fromTrained: () => trainedBtn.click(), wrong: () => wrongBtn.click(),
    set(name, value) { // as a reader would: change a control and let it announce the change
      const s = { lr: lrSel, batch: bsSel, alpha: l2Sel, optimizer: optSel, schedule: schedSel, loss: lossSel, data: dataSel,
        noise: noiseSel, hidden: hiddenIn, activation: actSel }[name];
      s.value = String(value); s.dispatchEvent(new Event('change'));
    },
    pinUnit(t) { tiles[t].c.dispatchEvent(new MouseEvent('click')); },
    layer(l) { layerSel.value = String(l); layerSel.dispatchEvent(new Event('change')); },
    newWorld, steps(k) { for (let i = 0; i < k; i++) step(); draw(); return steps; },
    trainEpochs(k) { // k whole epochs as fast as the page trains (drawn once, at the end)
      const target = runner.epoch + k;
      while (runner.epoch < target) step();
      draw();
      return this.state();
    },
    speed(k) { // steps per second without drawing, ms per coarse redraw (k/4 of them) and for the fine one
      let t0 = performance.now();
      for (let i = 0; i < k; i++) step();
      const stepsPerSecond = k / ((performance.now() - t0) / 1000);
      t0 = performance.now();
      const r = Math.max(1, k >> 2);
      for (let i = 0; i < r; i++) draw();
      const drawMs = (performance.now() - t0) / r;
      t0 = performance.now();
      draw(true);
      return { stepsPerSecond, drawMs, stillMs: performance.now() - t0, live: gLive(), still: gStill() };
    },
    state: () => ({ epoch: runner.epoch, steps, playing, test: lastTest, history: history.slice(),
      theta: Array.from(net.theta), lr: opt.lr, settings: settings(), ratePerSecond: rateShown, world: world.name,
      status: status.textContent, field: fieldG, unitLayer, pinned, tiles: tiles.map(t => t.cap.textContent), numbers: numbers.textContent, note: runLine.textContent,
      worldNote: worldNote.textContent, kept: kept.map(q => q.epoch), scrub,
      viewedTheta: Array.from(viewed().theta) }),
  };
})();
