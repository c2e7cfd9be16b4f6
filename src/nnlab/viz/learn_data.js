// nnlab "Train it here": the 2-D playground sets of data/synthetic.py, generated in the page from a seed and a
// noise level, so a reader can try another set, noise or network without leaving the report. The shapes and
// defaults are synthetic.py's; the random numbers are the page's own (nnlabLearn.Random), not NumPy's, so a
// set here is a sibling of the CLI's set of the same name, not a copy. Also He's initialisation, as
// Network.create draws it (std sqrt(2/n_in), biases 0), from the same seeded generator.
(function () {
  'use strict';
  const N = window.nnlabLearn;

  function normal(rng) { // Box-Muller: two uniforms give a standard normal (1 - u keeps the log finite)
    return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  }
  const uniform = (rng, a, b) => a + (b - a) * rng.next();
  const half = n => Math.floor(n / 2);
  // Each generator returns points as rows [x, y]; the first half is class 0, the rest class 1, as in
  // synthetic.py, except xor's, labelled by quadrant (`label`).
  const GENERATORS = {
    moons(n, noise, rng) {
      const X = [];
      for (let i = 0; i < n; i++) {
        const t = uniform(rng, 0, Math.PI);
        X.push(i < half(n) ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)]);
      }
      return X.map(p => [p[0] + noise * normal(rng), p[1] + noise * normal(rng)]);
    },
    circles(n, noise, rng) {
      const X = [];
      for (let i = 0; i < n; i++) {
        const r = i < half(n) ? uniform(rng, 0, 0.5) : uniform(rng, 0.7, 1.0), a = uniform(rng, 0, 2 * Math.PI);
        X.push([r * Math.cos(a) + noise * normal(rng), r * Math.sin(a) + noise * normal(rng)]);
      }
      return X;
    },
    xor(n, noise, rng) {
      const X = [];
      for (let i = 0; i < n; i++) { // a small gap around the axes, as in the playground; labelled before the noise
        const p = [uniform(rng, -1, 1), uniform(rng, -1, 1)].map(v => v + Math.sign(v) * 0.05);
        X.push([p[0] + noise * normal(rng), p[1] + noise * normal(rng), (p[0] > 0) !== (p[1] > 0) ? 1 : 0]);
      }
      return X;
    },
    spiral(n, noise, rng) {
      const X = [];
      for (let i = 0; i < n; i++) {
        const k = i < half(n) ? 0 : 1, j = k ? i - half(n) : i, count = k ? n - half(n) : half(n);
        const r = 0.05 + 0.95 * j / Math.max(1, count - 1), a = 1.75 * 2 * Math.PI * r + Math.PI * k;
        X.push([r * Math.sin(a) + noise * normal(rng), r * Math.cos(a) + noise * normal(rng)]);
      }
      return X;
    },
    gauss(n, noise, rng) {
      const s = 0.15 + noise, X = [];
      for (let i = 0; i < n; i++) {
        const c = i < half(n) ? 0.5 : -0.5;
        X.push([c + s * normal(rng), c + s * normal(rng)]);
      }
      return X;
    },
  };
  const DEFAULT_NOISE = { moons: 0.2, circles: 0.1, xor: 0.05, spiral: 0.05, gauss: 0.1 };

  // n points of `name` at `noise`, standardised as the data layer does (each axis by the training points'
  // mean and std): { X (Float64Array, n x 2), y (Int32Array), mean, std }. Give `scale` to reuse a scaling.
  function generate(name, n, noise, rng, scale) {
    const X = GENERATORS[name](n, noise, rng), y = X.map((p, i) => (p.length > 2 ? p[2] : i < half(n) ? 0 : 1));
    const order = rng.permutation(n); // shuffled, so a slice of it is a fair sample of both classes
    let mean = scale && scale.mean, std = scale && scale.std;
    if (!scale) {
      mean = [0, 1].map(c => X.reduce((s, p) => s + p[c], 0) / n);
      std = [0, 1].map(c => Math.sqrt(X.reduce((s, p) => s + (p[c] - mean[c]) ** 2, 0) / n) || 1);
    }
    const flat = new Float64Array(2 * n), labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const p = X[order[i]];
      flat[2 * i] = (p[0] - mean[0]) / std[0]; flat[2 * i + 1] = (p[1] - mean[1]) / std[1];
      labels[i] = y[order[i]];
    }
    return { X: flat, y: labels, mean, std };
  }

  function heStart(sizes, rng) { // theta as Network.create lays it out: W ~ N(0, 2/n_in), b = 0
    const theta = new Float64Array(N.parameterCount(sizes));
    let at = 0;
    for (let l = 0; l + 1 < sizes.length; l++) {
      const nIn = sizes[l], nOut = sizes[l + 1], s = Math.sqrt(2 / nIn);
      for (let q = 0; q < nIn * nOut; q++) theta[at + q] = normal(rng) * s;
      at += nIn * nOut + nOut;
    }
    return theta;
  }

  Object.assign(N, { GENERATORS, DEFAULT_NOISE, generate, heStart, normal });
})();
