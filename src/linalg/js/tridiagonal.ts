/**
 * Householder reduction of a symmetric matrix to tridiagonal form, `A = Q T Qᵀ`, and the
 * explicit formation of `Qᵀ`, for the pure-TypeScript eigensolver.
 *
 * Algorithm: unblocked Householder tridiagonalisation, Golub & Van Loan, *Matrix Computations*
 * 4th ed., §8.3.1 (Algorithm 8.3.1); the same reduction as LAPACK `dsytd2` (UPLO = 'L') and
 * EISPACK `tred2`, processed from the last row upwards so that every vector is a contiguous
 * row of the row-major lower triangle. Step `i` (`i = n−1 … 2`) builds the reflector
 * `P_i = I − u uᵀ / h` from row `i` left of the diagonal (`u` supported on `0 … i−1`), forms
 * `p = A u / h`, `q = p − (uᵀp / 2h) u` and applies the symmetric rank-2 update
 * `A ← A − u qᵀ − q uᵀ` to the lower triangle of the leading `i × i` block.
 *
 * Memory traffic: the rank-2 update of step `i` and the symmetric matrix–vector product of
 * step `i − 1` are fused into one pass over the lower triangle (row `i − 1` is updated first,
 * so the next reflector is known before the pass). Each row is read along its contiguous
 * elements only.
 */

/**
 * Reduce the symmetric `[n, n]` matrix whose lower triangle is in `w` (row-major with row
 * stride `ld ≥ n`, element (i, j) at `w[i*ld + j]`; the strict upper triangle is neither read
 * nor written) to tridiagonal `T = Qᵀ A Q`.
 *
 * On exit `d[k] = T[k, k]` (length ≥ n), `e[k] = T[k + 1, k]` for `k < n − 1` and `e[n−1] = 0`
 * (length ≥ n), and for each step `i ≥ 2` with `h[i] ≠ 0` row `i` of `w` holds the reflector
 * vector `u` in `w[i*ld + 0 … i*ld + i − 1]`, with `P_i = I − u uᵀ / h[i]`; `h[i] = 0` means no
 * reflection was needed (the row was already zero left of the subdiagonal). Then
 * `Qᵀ = P_2 P_3 ⋯ P_{n−1}` (see {@link formQTransposed}). The rest of `w` is overwritten.
 *
 * A reflector is skipped exactly when the entries left of the subdiagonal are all zero
 * (as LAPACK `dlarfg` does), so diagonal and already-tridiagonal inputs pass through exactly.
 * Vectors are scaled by the 1-norm before squaring (as in `tred2`), so no overflow for finite
 * input below ~1e300.
 */
export function householderTridiagonalize(
  n: number,
  w: Float64Array,
  ld: number,
  d: Float64Array,
  e: Float64Array,
  h: Float64Array,
): void {
  if (n === 0) return;
  e.fill(0, 0, n);
  h.fill(0, 0, n);
  let p = new Float64Array(n); // A·v accumulated during the pass, becomes the next q
  let q = new Float64Array(n); // q of the pending rank-2 update
  let pending = false; // a rank-2 update with u = row i+1 of w and q is still to be applied
  for (let i = n - 1; i >= 1; i--) {
    const ri = i * ld;
    const ru = ri + ld;
    if (pending) {
      const ui = w[ru + i];
      const qi = q[i];
      for (let k = 0; k <= i; k++) w[ri + k] -= ui * q[k] + qi * w[ru + k];
    }
    d[i] = w[ri + i];

    // Householder vector from x = w[ri + 0 … ri + l], zeroing x[0 … l−1].
    const l = i - 1;
    const alpha = w[ri + l];
    let rest = 0;
    for (let k = 0; k < l; k++) rest += Math.abs(w[ri + k]);
    let hi = 0;
    if (rest === 0) {
      e[l] = alpha;
    } else {
      const scale = rest + Math.abs(alpha);
      let sigma = 0;
      for (let k = 0; k <= l; k++) {
        const x = w[ri + k] / scale;
        w[ri + k] = x;
        sigma += x * x;
      }
      const f = w[ri + l];
      const g = f >= 0 ? -Math.sqrt(sigma) : Math.sqrt(sigma);
      e[l] = scale * g;
      hi = sigma - f * g;
      w[ri + l] = f - g;
    }
    h[i] = hi;

    // One pass over rows 0 … i−1: pending rank-2 update and/or p = A v for v = row i.
    if (hi !== 0) p.fill(0, 0, i);
    if (pending && hi !== 0) fusedUpdateSymv(ld, i, w, ru, q, ri, p);
    else if (pending) rank2Update(ld, i, w, ru, q);
    else if (hi !== 0) symvLower(ld, i, w, ri, p);

    if (hi !== 0) {
      let vp = 0;
      for (let k = 0; k < i; k++) {
        p[k] /= hi;
        vp += w[ri + k] * p[k];
      }
      const kk = vp / (2 * hi);
      for (let k = 0; k < i; k++) p[k] -= kk * w[ri + k];
      const t = q;
      q = p;
      p = t;
      pending = true;
    } else {
      pending = false;
    }
  }
  d[0] = w[0];
}

/**
 * Rows `j < i`: `W[j, 0…j] −= u_j q + q_j u` (u = `w[ru …]`) and, with the updated values,
 * `p += W[0…i−1, 0…i−1] · v` (v = `w[rv …]`, symmetric product from the lower triangle).
 * Rows are taken in pairs so that the loads of q, u, v and p serve two rows.
 */
function fusedUpdateSymv(
  ld: number,
  i: number,
  w: Float64Array,
  ru: number,
  q: Float64Array,
  rv: number,
  p: Float64Array,
): void {
  let j = 0;
  for (; j + 1 < i; j += 2) {
    const r0 = j * ld;
    const r1 = r0 + ld;
    const u0 = w[ru + j], q0 = q[j], v0 = w[rv + j];
    const u1 = w[ru + j + 1], q1 = q[j + 1], v1 = w[rv + j + 1];
    let acc0 = 0;
    let acc1 = 0;
    for (let k = 0; k < j; k++) {
      const qk = q[k];
      const uk = w[ru + k];
      const vk = w[rv + k];
      const x = w[r0 + k] - (u0 * qk + q0 * uk);
      const y = w[r1 + k] - (u1 * qk + q1 * uk);
      w[r0 + k] = x;
      w[r1 + k] = y;
      acc0 += x * vk;
      acc1 += y * vk;
      p[k] += x * v0 + y * v1;
    }
    const x = w[r0 + j] - (u0 * q0 + q0 * u0); // W[j, j]
    const y = w[r1 + j] - (u1 * q0 + q1 * u0); // W[j+1, j]
    const z = w[r1 + j + 1] - (u1 * q1 + q1 * u1); // W[j+1, j+1]
    w[r0 + j] = x;
    w[r1 + j] = y;
    w[r1 + j + 1] = z;
    p[j] += acc0 + x * v0 + y * v1;
    p[j + 1] += acc1 + y * v0 + z * v1;
  }
  if (j < i) {
    const rj = j * ld;
    const uj = w[ru + j], qj = q[j], vj = w[rv + j];
    let acc = 0;
    for (let k = 0; k < j; k++) {
      const x = w[rj + k] - (uj * q[k] + qj * w[ru + k]);
      w[rj + k] = x;
      acc += x * w[rv + k];
      p[k] += x * vj;
    }
    const x = w[rj + j] - (uj * qj + qj * uj);
    w[rj + j] = x;
    p[j] += acc + x * vj;
  }
}

/** Rows `j < i`: `W[j, 0…j] −= u_j q + q_j u` (u = `w[ru …]`). */
function rank2Update(ld: number, i: number, w: Float64Array, ru: number, q: Float64Array): void {
  for (let j = 0; j < i; j++) {
    const rj = j * ld;
    const uj = w[ru + j];
    const qj = q[j];
    for (let k = 0; k <= j; k++) w[rj + k] -= uj * q[k] + qj * w[ru + k];
  }
}

/** `p += W[0…i−1, 0…i−1] · v` from the lower triangle (v = `w[rv …]`). */
function symvLower(ld: number, i: number, w: Float64Array, rv: number, p: Float64Array): void {
  for (let j = 0; j < i; j++) {
    const rj = j * ld;
    const vj = w[rv + j];
    let acc = 0;
    for (let k = 0; k < j; k++) {
      const x = w[rj + k];
      acc += x * w[rv + k];
      p[k] += x * vj;
    }
    p[j] += acc + w[rj + j] * vj;
  }
}

/**
 * Form `Qᵀ = P_2 P_3 ⋯ P_{n−1}` (row-major `[n, n]` with row stride `ld`, into `qt`) from the
 * reflectors left in `w` (same stride) and `h` by {@link householderTridiagonalize}, so that
 * `A = Q T Qᵀ` (LAPACK `dorgtr`).
 *
 * Row `r` of `Qᵀ` is `e_rᵀ P_{r+1} ⋯ P_{n−1}` (reflectors `P_j` with `j ≤ r` leave `e_r`
 * unchanged), so rows are independent; they are built four at a time so that each reflector
 * is read once per four rows. About `4n³/3` flops.
 */
export function formQTransposed(n: number, w: Float64Array, ld: number, h: Float64Array, qt: Float64Array): void {
  qt.fill(0, 0, n * ld);
  for (let r0 = 0; r0 < n; r0 += 4) {
    const rb = Math.min(4, n - r0);
    for (let r = r0; r < r0 + rb; r++) qt[r * ld + r] = 1;
    // Reflectors that do not yet act on every row of the block.
    const jFull = r0 + rb;
    for (let j = r0 + 1; j < Math.min(jFull, n); j++) {
      const hj = h[j];
      if (hj === 0) continue;
      const uj = j * ld;
      for (let r = r0; r < j; r++) {
        const xr = r * ld;
        let s = 0;
        for (let k = 0; k < j; k++) s += qt[xr + k] * w[uj + k];
        s /= hj;
        for (let k = 0; k < j; k++) qt[xr + k] -= s * w[uj + k];
      }
    }
    if (rb < 4) continue; // only the last block can be partial, and then jFull = n
    const x0 = r0 * ld;
    const x1 = x0 + ld;
    const x2 = x1 + ld;
    const x3 = x2 + ld;
    // Rows x_r (r = r0 … r0+3) are supported on [0, j) before P_j for every j ≥ jFull.
    // The axpy of P_j and the dot products for the next reflector share one pass.
    let j = jFull;
    while (j < n && h[j] === 0) j++;
    if (j === n) continue;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    {
      const uj = j * ld;
      for (let k = 0; k < j; k++) {
        const u = w[uj + k];
        s0 += qt[x0 + k] * u;
        s1 += qt[x1 + k] * u;
        s2 += qt[x2 + k] * u;
        s3 += qt[x3 + k] * u;
      }
    }
    for (;;) {
      const hj = h[j];
      const g0 = s0 / hj, g1 = s1 / hj, g2 = s2 / hj, g3 = s3 / hj;
      const uj = j * ld;
      let jn = j + 1;
      while (jn < n && h[jn] === 0) jn++;
      if (jn === n) {
        for (let k = 0; k < j; k++) {
          const u = w[uj + k];
          qt[x0 + k] -= g0 * u;
          qt[x1 + k] -= g1 * u;
          qt[x2 + k] -= g2 * u;
          qt[x3 + k] -= g3 * u;
        }
        break;
      }
      const un = jn * ld;
      s0 = 0;
      s1 = 0;
      s2 = 0;
      s3 = 0;
      for (let k = 0; k < j; k++) {
        const u = w[uj + k];
        const v = w[un + k];
        const y0 = qt[x0 + k] - g0 * u;
        const y1 = qt[x1 + k] - g1 * u;
        const y2 = qt[x2 + k] - g2 * u;
        const y3 = qt[x3 + k] - g3 * u;
        qt[x0 + k] = y0;
        qt[x1 + k] = y1;
        qt[x2 + k] = y2;
        qt[x3 + k] = y3;
        s0 += y0 * v;
        s1 += y1 * v;
        s2 += y2 * v;
        s3 += y3 * v;
      }
      // Entries j … jn−1 of the rows are still zero, so the dot products are complete.
      j = jn;
    }
  }
}
