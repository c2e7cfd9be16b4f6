// nnlab "Train it here": the pictures, as functions of arrays that draw into a canvas context and keep no
// state: colour scales, the points, the zero line of a field (marching squares), the loss curves.
(function () {
  'use strict';
  const N = window.nnlabLearn;
  const diverging = t => { // -1 blue, 0 white, +1 red (RdBu, as the report's figures)
    t = Math.max(-1, Math.min(1, t));
    const end = t < 0 ? [33, 102, 172] : [178, 24, 43], s = Math.abs(t);
    return [0, 1, 2].map(k => Math.round(255 + (end[k] - 255) * s));
  };
  // a unit's activation over its largest: white where it is off, darker blue the stronger
  const unitColour = v => (v <= 0 ? [255, 255, 255] : [Math.round(245 - 200 * v), Math.round(240 - 150 * v), Math.round(225 - 60 * v)]);
  const PALETTE = [[31, 119, 180], [214, 39, 40], [44, 160, 44], [255, 127, 14], [148, 103, 189],
    [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]];
  const classColour = (k, classes) => (classes === 2 ? (k ? [178, 24, 43] : [33, 102, 172]) : PALETTE[k % 10]);
  const rgb = c => `rgb(${c[0]},${c[1]},${c[2]})`;

  function points(g, X, y, classes, toPx, rings) { // one path per class: a few hundred arcs in one fill
    for (let k = 0; k < classes; k++) {
      g.beginPath();
      for (let i = 0; i < y.length; i++) {
        if (y[i] !== k) continue;
        const [px, py] = toPx(X[2 * i], X[2 * i + 1]);
        g.moveTo(px + 2.6, py); g.arc(px, py, 2.6, 0, 7);
      }
      if (rings) { g.strokeStyle = rgb(classColour(k, classes)); g.lineWidth = 1.5; g.stroke(); }
      else { g.fillStyle = rgb(classColour(k, classes)); g.fill(); }
    }
  }
  // Where V (G x G values at cell centres) crosses `cut`, drawn over a size x size canvas: marching squares,
  // linear along each edge.
  function contour(g, V, cut, G, size) {
    const c = (gx, gy) => V[gy * G + gx] - cut, at = q => (q + 0.5) * size / G;
    g.beginPath(); g.strokeStyle = '#000'; g.lineWidth = 1.6;
    for (let gy = 0; gy + 1 < G; gy++) for (let gx = 0; gx + 1 < G; gx++) {
      const a = c(gx, gy), b = c(gx + 1, gy), d = c(gx, gy + 1), e = c(gx + 1, gy + 1), cross = [];
      if ((a > 0) !== (b > 0)) cross.push([at(gx + a / (a - b)), at(gy)]);
      if ((b > 0) !== (e > 0)) cross.push([at(gx + 1), at(gy + b / (b - e))]);
      if ((d > 0) !== (e > 0)) cross.push([at(gx + d / (d - e)), at(gy + 1)]);
      if ((a > 0) !== (d > 0)) cross.push([at(gx), at(gy + a / (a - d))]);
      for (let k = 0; k + 1 < cross.length; k += 2) { g.moveTo(...cross[k]); g.lineTo(...cross[k + 1]); }
    }
    g.stroke();
  }
  // Loss curves over epochs 0..epochs on a log scale (a loss falls by factors: from 25, confidently wrong, to
  // 0.05, and the last factors matter): lines = [{ values, xs, colour, dash }], a value null or not finite
  // breaks its line.
  function lossCurves(g, width, height, lines, epochs, marker) { // marker: an epoch to mark, or null
    const all = lines.flatMap(l => l.values).filter(v => v !== null && isFinite(v));
    const top = Math.log10(Math.max(...all, 0.2) * 1.25), bottom = Math.log10(Math.max(1e-3, Math.min(...all, 1) / 1.25));
    const x0 = 44, y0 = 18, w = width - x0 - 10, h = height - y0 - 24;
    const px = e => x0 + e / epochs * w, py = v => y0 + (top - Math.log10(Math.max(v, 1e-3))) / (top - bottom) * h;
    g.fillStyle = '#fff'; g.fillRect(0, 0, width, height);
    g.strokeStyle = '#ddd'; g.fillStyle = '#555'; g.font = '12px system-ui, sans-serif'; g.lineWidth = 1;
    for (let e = Math.floor(bottom); e <= Math.ceil(top); e++) for (const m of [1, 3]) {
      const v = m * 10 ** e;
      if (Math.log10(v) < bottom || Math.log10(v) > top) continue;
      g.beginPath(); g.moveTo(x0, py(v)); g.lineTo(x0 + w, py(v)); g.stroke();
      g.fillText(String(+v.toPrecision(1)), 4, py(v) + 4);
    }
    g.fillText('log loss (log scale)', 4, 11);
    g.fillText('0', x0, height - 6);
    const last = `${epochs}`; g.fillText(last, x0 + w - g.measureText(last).width, height - 6);
    g.fillText('epoch', x0 + w / 2 - 16, height - 6);
    if (marker !== null && marker !== undefined) {
      g.strokeStyle = '#888'; g.lineWidth = 1; g.beginPath(); g.moveTo(px(marker), y0); g.lineTo(px(marker), y0 + h); g.stroke();
    }
    for (const { values, xs, colour, dash } of lines) {
      g.strokeStyle = colour; g.setLineDash(dash ? [5, 4] : []); g.lineWidth = 2; g.beginPath();
      let on = false;
      values.forEach((v, i) => {
        if (v === null || !isFinite(v)) { on = false; return; }
        if (on) g.lineTo(px(xs[i]), py(v)); else g.moveTo(px(xs[i]), py(v));
        on = true;
      });
      g.stroke(); g.setLineDash([]);
      if (values.length === 1 && isFinite(values[0])) { // the start alone: a dot, so it is seen before epoch 1
        g.fillStyle = colour; g.beginPath(); g.arc(px(xs[0]), py(values[0]), 3.5, 0, 7); g.fill();
      }
    }
  }
  N.plots = { diverging, unitColour, classColour, rgb, points, contour, lossCurves };
})();
