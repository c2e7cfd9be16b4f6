// nnlab "Train it here": the derived network's training in plain JavaScript, no libraries, float64.
// It is scratch/network.py and scratch/optim.py equation for equation, with their names (Z, A, dZ, dW, db)
// and comments: one flat theta with W[l], b[l] as views, a preallocated workspace, forward filling ws.A,
// backward overwriting ws.dW and ws.db, optimisers that turn the flat gradient into an in-place update.
// Rows are samples; a matrix is a Float64Array in row-major order (row r, column j at r*cols + j).
// Everything hangs on window.nnlabLearn, so the page (learn_page.js), a test or a reader's console can call it.
(function () {
  'use strict';

  // ---- the network: W[l] (n_in x n_out) and b[l] (n_out), views into one flat theta --------------------
  function carve(flat, sizes) { // contiguous (W, b) views of `flat`, in order: W0, b0, W1, b1, ...
    const W = [], b = [];
    let at = 0;
    for (let l = 0; l + 1 < sizes.length; l++) {
      const nIn = sizes[l], nOut = sizes[l + 1];
      W.push(flat.subarray(at, at + nIn * nOut)); at += nIn * nOut;
      b.push(flat.subarray(at, at + nOut)); at += nOut;
    }
    return { W, b };
  }
  function parameterCount(sizes) {
    let n = 0;
    for (let l = 0; l + 1 < sizes.length; l++) n += (sizes[l] + 1) * sizes[l + 1];
    return n;
  }
  // theta: W0, b0, W1, b1, ... as network.py lays them out (copied); activation: the hidden layers' g
  function Network(sizes, theta, activation) {
    if (!ACTIVATIONS[activation || 'relu']) throw new Error(`unknown activation ${activation}`);
    this.activation = activation || 'relu';
    if (theta.length !== parameterCount(sizes)) throw new Error(`theta holds ${theta.length} numbers, ` +
      `the sizes ${sizes.join('-')} need ${parameterCount(sizes)}`);
    this.sizes = sizes.slice();
    this.theta = Float64Array.from(theta);
    Object.assign(this, carve(this.theta, this.sizes));
    this.binary = sizes[sizes.length - 1] === 1; // one output unit: sigmoid + log loss, the derived network
  }

  // Buffers for batches of up to m rows: activations A[l], their gradients dZ[l], the targets Y, and the
  // gradient laid out like theta (dW[l], db[l] are views into it), so a step allocates nothing.
  function Workspace(net, m) {
    const outs = net.sizes.slice(1);
    this.m = m;
    this.A = outs.map(n => new Float64Array(m * n));
    this.dZ = outs.map(n => new Float64Array(m * n));
    this.Y = new Float64Array(m * outs[outs.length - 1]);
    this.grad = new Float64Array(net.theta.length);
    const v = carve(this.grad, net.sizes);
    this.dW = v.W; this.db = v.b;
  }

  // ---- forward ------------------------------------------------------------------------------------
  // Z = A_prev·W + b for the first m rows of A_prev (m x n_in), into Z (m x n_out).
  function affine(A_prev, W, b, Z, m, nIn, nOut) {
    for (let r = 0; r < m; r++) {
      const zr = r * nOut, ar = r * nIn;
      for (let j = 0; j < nOut; j++) Z[zr + j] = b[j];
      for (let i = 0; i < nIn; i++) {
        const a = A_prev[ar + i];
        if (a === 0) continue;                     // ReLU (and drawn images) leave many zeros: skip their row
        const wi = i * nOut;
        for (let j = 0; j < nOut; j++) Z[zr + j] += a * W[wi + j];
      }
    }
  }
  // Fill ws.A with every layer's activations for the first m rows of X; returns the output's logits Z_out
  // (the output layer's buffer holds the logits; the loss is computed from them).
  function forward(net, X, ws, m) {
    const L = net.W.length;
    let A_prev = X;
    for (let l = 0; l < L; l++) {
      const nIn = net.sizes[l], nOut = net.sizes[l + 1], Z = ws.A[l];
      affine(A_prev, net.W[l], net.b[l], Z, m, nIn, nOut); // Z = A_prev·W + b
      if (l < L - 1) ACTIVATIONS[net.activation].g(Z, m * nOut);          // A = g(Z), in place
      A_prev = Z;
    }
    return ws.A[L - 1];
  }

  // sigma(z) = e^z / (1 + e^z), as (1 + tanh(z/2)) / 2: no overflow for any z (network.py's sigmoid)
  const sigmoid = z => (1 + Math.tanh(0.5 * z)) * 0.5;
  // Hidden activations, as network.py's ACTIVATIONS: g overwrites Z with A = g(Z) (its first n entries), and
  // dZ(dA, A) is dA ⊙ g'(Z) written in terms of A (forward has overwritten Z), multiplied in network.py's order.
  const ACTIVATIONS = {
    relu: { g: (Z, n) => { for (let k = 0; k < n; k++) if (Z[k] < 0) Z[k] = 0; }, dZ: (dA, A) => (A > 0 ? dA : 0) },
    tanh: { g: (Z, n) => { for (let k = 0; k < n; k++) Z[k] = Math.tanh(Z[k]); }, dZ: (dA, A) => dA * (1 - A * A) },
    logistic: { g: (Z, n) => { for (let k = 0; k < n; k++) Z[k] = sigmoid(Z[k]); }, dZ: (dA, A) => dA * A * (1 - A) },
    identity: { g: () => {}, dZ: dA => dA },
  };
  // A_out of the first m rows: sigma(Z_out) for one output unit, softmax(Z_out) (max subtracted) for several.
  function probabilities(Z_out, binary, m, k, out) {
    if (binary) { for (let r = 0; r < m; r++) out[r] = sigmoid(Z_out[r]); return out; }
    for (let r = 0; r < m; r++) {
      let top = -Infinity, sum = 0;
      for (let j = 0; j < k; j++) top = Math.max(top, Z_out[r * k + j]);
      for (let j = 0; j < k; j++) { out[r * k + j] = Math.exp(Z_out[r * k + j] - top); sum += out[r * k + j]; }
      for (let j = 0; j < k; j++) out[r * k + j] /= sum;
    }
    return out;
  }
  // Mean log loss of the first m rows, from the logits, so log(0) never happens.
  // Binary: -[y log s(z) + (1-y) log(1-s(z))] = max(z,0) - y z + log(1 + e^-|z|).
  // Softmax: log sum_j e^{z_j} - z_y, with the max subtracted inside the log-sum-exp.
  function logLoss(Z_out, y, binary, m, k) {
    let total = 0;
    for (let r = 0; r < m; r++) {
      if (binary) {
        const z = Z_out[r];
        total += Math.max(z, 0) - y[r] * z + Math.log1p(Math.exp(-Math.abs(z)));
        continue;
      }
      let top = -Infinity, sum = 0;
      for (let j = 0; j < k; j++) top = Math.max(top, Z_out[r * k + j]);
      for (let j = 0; j < k; j++) sum += Math.exp(Z_out[r * k + j] - top);
      total += top + Math.log(sum) - Z_out[r * k + y[r]];
    }
    return total / m;
  }
  // Mean squared error of one sigmoid unit, halved: (1/2m) Σ (σ(z) - y)², so that dL/dA = (A - Y)/m. The
  // derivation's counter-example: its dL/dZ_out keeps a factor A(1 - A), which vanishes where σ saturates.
  function squaredError(Z_out, y, m) {
    let total = 0;
    for (let r = 0; r < m; r++) total += (sigmoid(Z_out[r]) - y[r]) ** 2;
    return 0.5 * total / m;
  }
  // The L2 term added to the loss: (alpha / 2m) * sum of squared weights (biases excluded).
  function l2Penalty(net, alpha, m) {
    if (!alpha) return 0;
    let s = 0;
    for (const W of net.W) for (let i = 0; i < W.length; i++) s += W[i] * W[i];
    return 0.5 * alpha / m * s;
  }

  // ---- backward -----------------------------------------------------------------------------------
  // Fill ws.dW, ws.db with the gradients of the mean loss (+ L2) for the first m rows of (X, y): the log loss,
  // or with loss 'mse' the squared error of one sigmoid unit (squaredError).
  // Needs forward(net, X, ws, m) first. Overwrites the gradients, never accumulates into them.
  function backward(net, X, y, ws, m, alpha, loss) {
    const L = net.W.length, k = net.sizes[L], Y = ws.Y;
    if (net.binary) for (let r = 0; r < m; r++) Y[r] = y[r];
    else { Y.fill(0, 0, m * k); for (let r = 0; r < m; r++) Y[r * k + y[r]] = 1; }
    if (loss === 'mse' && !net.binary) throw new Error('the squared error is for one sigmoid output unit');
    let dZ = ws.dZ[L - 1];
    probabilities(ws.A[L - 1], net.binary, m, k, dZ);
    if (loss === 'mse') {
      for (let q = 0; q < m; q++) {
        const slope = (1 - dZ[q]) * dZ[q];       // dA3/dZ3 = A3(1 - A3)
        dZ[q] = (dZ[q] - Y[q]) * slope * (1 / m); // dZ3 = (A3 - Y)·A3(1 - A3)/m
      }
    } else for (let q = 0; q < m * k; q++) dZ[q] = (dZ[q] - Y[q]) * (1 / m); // dZ_out = (A_out - Y)/m
    for (let l = L - 1; l >= 0; l--) {
      const nIn = net.sizes[l], nOut = net.sizes[l + 1], W = net.W[l], dW = ws.dW[l], db = ws.db[l];
      const A_prev = l === 0 ? X : ws.A[l - 1];
      dW.fill(0); db.fill(0);
      for (let r = 0; r < m; r++) {
        const ar = r * nIn, zr = r * nOut;
        for (let i = 0; i < nIn; i++) {
          const a = A_prev[ar + i];
          if (a === 0) continue;
          const wi = i * nOut;
          for (let j = 0; j < nOut; j++) dW[wi + j] += a * dZ[zr + j]; // dW = A_prevᵀ·dZ
        }
        for (let j = 0; j < nOut; j++) db[j] += dZ[zr + j];             // db = Σrows dZ
      }
      if (alpha) for (let q = 0; q < dW.length; q++) dW[q] += (alpha / m) * W[q]; // + (alpha/m)·W (the L2 term)
      if (l === 0) break;
      const dA = ws.dZ[l - 1], A = ws.A[l - 1], relu = net.activation === 'relu';
      const times = ACTIVATIONS[net.activation].dZ;
      for (let r = 0; r < m; r++) {
        const ar = r * nIn, zr = r * nOut;
        for (let i = 0; i < nIn; i++) {
          // dZ_prev = dA_prev ⊙ g'(Z_prev). ReLU: g' = 1[Z_prev > 0], and A = ReLU(Z) is > 0 exactly where Z
          // is, so a unit that is off passes no gradient back and its row of the product is skipped.
          if (relu && !(A[ar + i] > 0)) { dA[ar + i] = 0; continue; }
          let s = 0;
          const wi = i * nOut;
          for (let j = 0; j < nOut; j++) s += dZ[zr + j] * W[wi + j];   // dA_prev = dZ·Wᵀ
          dA[ar + i] = relu ? s : times(s, A[ar + i]);
        }
      }
      dZ = dA;
    }
  }

  // ---- optimisers (optim.py, PyTorch's convention, as the CLI's NumPy network trains) ------------------
  // torch: v = mu·v + g; p -= lr·v (Nesterov: p -= lr·(g + mu·v)); mu = 0 is plain SGD.
  function SGD(theta, lr, momentum, nesterov) {
    this.theta = theta; this.lr = lr; this.momentum = momentum || 0; this.nesterov = !!nesterov;
    this.velocity = this.momentum ? new Float64Array(theta.length) : null;
    this.steps = 0;
  }
  SGD.prototype.step = function (g) {
    this.steps += 1;
    const p = this.theta, lr = this.lr, mu = this.momentum, v = this.velocity;
    if (!mu) { for (let i = 0; i < p.length; i++) p[i] -= lr * g[i]; return; }
    for (let i = 0; i < p.length; i++) {
      v[i] = this.steps === 1 ? g[i] : mu * v[i] + g[i]; // torch starts the buffer at the first gradient
      p[i] -= this.nesterov ? lr * (g[i] + mu * v[i]) : lr * v[i];
    }
  };
  // m = b1·m + (1-b1)·g;  v = b2·v + (1-b2)·g²;  p -= lr/(1-b1^t) · m / (sqrt(v)/sqrt(1-b2^t) + eps)
  function Adam(theta, lr, beta1, beta2, eps) {
    this.theta = theta; this.lr = lr;
    this.beta1 = beta1 === undefined ? 0.9 : beta1; this.beta2 = beta2 === undefined ? 0.999 : beta2;
    this.eps = eps === undefined ? 1e-8 : eps;
    this.m = new Float64Array(theta.length); this.v = new Float64Array(theta.length);
    this.steps = 0;
  }
  Adam.prototype.step = function (g) {
    this.steps += 1;
    const b1 = this.beta1, b2 = this.beta2, t = this.steps, p = this.theta, m = this.m, v = this.v;
    const root = 1 / Math.sqrt(1 - b2 ** t), size = this.lr / (1 - b1 ** t);
    for (let i = 0; i < p.length; i++) {
      m[i] = m[i] * b1 + g[i] * (1 - b1);                // m = b1·m + (1-b1)·g
      v[i] = v[i] * b2 + (g[i] * g[i]) * (1 - b2);       // v = b2·v + (1-b2)·g²
      p[i] -= (m[i] / (Math.sqrt(v[i]) * root + this.eps)) * size; // p -= step · m / (sqrt(v̂) + eps)
    }
  };
  // optimizer name -> how to build it (the CLI's names and the run's momentum)
  const OPTIMIZERS = {
    sgd: (theta, s) => new SGD(theta, s.lr),
    momentum: (theta, s) => new SGD(theta, s.lr, s.momentum, s.nesterov),
    adam: (theta, s) => new Adam(theta, s.lr),
  };

  // Learning-rate schedules as pure functions of progress in [0, 1) (training/schedules.py).
  const SCHEDULES = {
    constant: (lr) => lr,
    cosine: (lr, progress) => lr * 0.5 * (1.0 + Math.cos(Math.PI * progress)),
    onecycle: (lr, progress) => {
      const warm = 0.3, start = lr / 25, end = lr / 25e4;
      if (progress < warm) return start + (lr - start) * 0.5 * (1 - Math.cos(Math.PI * progress / warm));
      return end + (lr - end) * 0.5 * (1 + Math.cos(Math.PI * (progress - warm) / (1 - warm)));
    },
  };

  // ---- one pass of mini-batch training (scratch/train.py's EpochRunner) --------------------------------
  // A seeded shuffle (xorshift32, Marsaglia 2003): the page's batches are its own, not NumPy's, but the
  // same seed gives the same batches, so a reset replays the same run bit for bit.
  function Random(seed) { // the seed's bits spread over the state first: xorshift starts poorly from small ones
    this.s = (Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0) || 1;
    for (let k = 0; k < 8; k++) this.next();
  }
  Random.prototype.next = function () { // uniform in [0, 1)
    let x = this.s;
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    this.s = x;
    return x / 4294967296;
  };
  Random.prototype.permutation = function (n) { // Fisher-Yates
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1)), t = order[i];
      order[i] = order[j]; order[j] = t;
    }
    return order;
  };

  // Trains `net` on (X, y) (n samples, X n x d) in batches of `batchSize`, `optimizer` made for net.theta.
  // step() trains one batch of the epoch's order (a new shuffle at each epoch's start) and returns its log
  // loss; the epoch's loss is the mean over its batches as they were trained, weighed by their size, as
  // the CLI's curves measure it. `order` (optional) fixes an epoch's order, for a test against NumPy's.
  function Runner(net, optimizer, X, y, n, batchSize, alpha, rng, loss) {
    // `loss` is what backward differentiates ('log' or 'mse'); the loss reported is the log loss either way
    Object.assign(this, { net, optimizer, X, y, n, batchSize: Math.min(batchSize, n), alpha, rng, loss: loss || 'log' });
    const d = net.sizes[0];
    this.ws = new Workspace(net, this.batchSize);
    this.Xb = new Float64Array(this.batchSize * d);
    this.yb = new Int32Array(this.batchSize);
    this.order = null; this.at = 0; this.epoch = 0; this.lossSum = 0; this.correct = 0;
  }
  Runner.prototype.step = function (order) {
    const net = this.net, d = net.sizes[0], k = net.sizes[net.sizes.length - 1];
    if (!this.order) { this.order = order || this.rng.permutation(this.n); this.at = 0; this.lossSum = 0; this.correct = 0; }
    const m = Math.min(this.batchSize, this.n - this.at), ws = this.ws;
    for (let r = 0; r < m; r++) { // gather the batch into reused buffers
      const i = this.order[this.at + r];
      for (let c = 0; c < d; c++) this.Xb[r * d + c] = this.X[i * d + c];
      this.yb[r] = this.y[i];
    }
    const Z_out = forward(net, this.Xb, ws, m);
    const loss = logLoss(Z_out, this.yb, net.binary, m, k);
    this.lossSum += loss * m;
    this.correct += countCorrect(Z_out, this.yb, net.binary, m, k);
    backward(net, this.Xb, this.yb, ws, m, this.alpha, this.loss);
    this.optimizer.step(ws.grad);
    this.at += m;
    let finished = null;
    if (this.at >= this.n) {
      finished = { epoch: ++this.epoch, loss: this.lossSum / this.n, accuracy: this.correct / this.n };
      this.order = null;
    }
    return { loss, finished };
  };
  function countCorrect(Z_out, y, binary, m, k) { // predicted labels: z > 0, or the largest logit
    let c = 0;
    for (let r = 0; r < m; r++) {
      let best = 0;
      if (binary) best = Z_out[r] > 0 ? 1 : 0;
      else for (let j = 1; j < k; j++) if (Z_out[r * k + j] > Z_out[r * k + best]) best = j;
      if (best === y[r]) c++;
    }
    return c;
  }
  // (mean log loss, accuracy) of net on all n rows of (X, y), in batches through `ws`.
  function evaluate(net, X, y, n, ws) {
    const d = net.sizes[0], k = net.sizes[net.sizes.length - 1];
    let loss = 0, correct = 0;
    for (let start = 0; start < n; start += ws.m) {
      const m = Math.min(ws.m, n - start);
      const Z_out = forward(net, X.subarray(start * d, (start + m) * d), ws, m);
      loss += logLoss(Z_out, y.subarray(start, start + m), net.binary, m, k) * m;
      correct += countCorrect(Z_out, y.subarray(start, start + m), net.binary, m, k);
    }
    return { loss: loss / n, accuracy: correct / n };
  }

  // The gradients of the mean log loss (+ L2) of a network given as sizes and theta, on rows X (arrays) and
  // labels y: the flat gradient, laid out like theta. For tests and the curious: one call, nothing kept.
  function gradients(sizes, theta, X, y, alpha, loss, activation) {
    const net = new Network(sizes, theta, activation), m = X.length, ws = new Workspace(net, m);
    const Xf = Float64Array.from(X.flat()), yi = Int32Array.from(y), Z_out = ws.A[ws.A.length - 1];
    forward(net, Xf, ws, m);
    const value = loss === 'mse' ? squaredError(Z_out, yi, m) : logLoss(Z_out, yi, net.binary, m, sizes[sizes.length - 1]);
    backward(net, Xf, yi, ws, m, alpha || 0, loss);
    return { grad: Array.from(ws.grad), loss: value + l2Penalty(net, alpha || 0, m) };
  }

  window.nnlabLearn = {
    Network, Workspace, forward, backward, probabilities, logLoss, squaredError, l2Penalty, sigmoid,
    SGD, Adam, OPTIMIZERS, SCHEDULES, Random, Runner, evaluate, gradients, parameterCount,
  };
})();
