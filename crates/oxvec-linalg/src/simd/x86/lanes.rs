//! The float kernels AVX2 and AVX-512 share, written once over a lane trait: a register of
//! `WIDTH` f32 lanes ([`Lanes`]) and the row element types that load into it ([`RowElem`]).
//!
//! Everything here is `#[inline(always)]` and carries no `#[target_feature]` of its own: it is
//! instantiated inside each instruction set's `#[target_feature]` entry point, where the
//! intrinsics inline. Calling it anywhere else is what the `# Safety` sections forbid.

/// One SIMD register of f32 lanes.
///
/// # Safety
///
/// Implementors' methods run the instructions of one instruction set; every caller must have
/// checked that the CPU has it.
pub unsafe trait Lanes: Copy {
    const WIDTH: usize;
    /// Whether [`Lanes::load_tail`] and [`RowElem::load_tail`] are real (masked) loads.
    const MASKED_TAIL: bool;
    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn zero() -> Self;
    /// # Safety
    /// `p` points to `WIDTH` readable f32s.
    unsafe fn load(p: *const f32) -> Self;
    /// The first `n < WIDTH` f32s at `p`, zero-padded (only when `MASKED_TAIL`).
    ///
    /// # Safety
    /// `p` points to `n` readable f32s.
    unsafe fn load_tail(p: *const f32, n: usize) -> Self;
    /// `WIDTH` u8 codes at `p`, widened to f32.
    ///
    /// # Safety
    /// `p` points to `WIDTH` readable bytes.
    unsafe fn load_u8(p: *const u8) -> Self;
    /// The first `n < WIDTH` u8 codes at `p`, widened and zero-padded (only when
    /// `MASKED_TAIL`).
    ///
    /// # Safety
    /// `p` points to `n` readable bytes.
    unsafe fn load_u8_tail(p: *const u8, n: usize) -> Self;
    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn sub(a: Self, b: Self) -> Self;
    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn add(a: Self, b: Self) -> Self;
    /// `a * b + c`.
    ///
    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn fmadd(a: Self, b: Self, c: Self) -> Self;
    /// The sum of the lanes.
    ///
    /// # Safety
    /// The CPU has the instruction set.
    unsafe fn sum(self) -> f32;
}

/// A row element type that loads (widened) into `L`.
///
/// # Safety
///
/// As for [`Lanes`]: the loads run `L`'s instruction set.
pub unsafe trait RowElem<L: Lanes>: Copy {
    /// # Safety
    /// `p` points to `L::WIDTH` readable elements.
    unsafe fn load(p: *const Self) -> L;
    /// # Safety
    /// `p` points to `n < L::WIDTH` readable elements; only called when `L::MASKED_TAIL`.
    unsafe fn load_tail(p: *const Self, n: usize) -> L;
    fn widen(self) -> f32;
}

/// The sum of four accumulators, pairwise (the order every kernel here reduces in).
#[inline(always)]
unsafe fn sum4<L: Lanes>(acc: [L; 4]) -> f32 {
    // SAFETY: the caller runs on a CPU with `L`'s instruction set.
    unsafe { L::add(L::add(acc[0], acc[1]), L::add(acc[2], acc[3])).sum() }
}

/// Squared L2 distance of `a` and `b` (over the shorter length).
///
/// # Safety
///
/// The CPU has `L`'s instruction set.
#[inline(always)]
pub unsafe fn l2<L: Lanes, T: RowElem<L>>(a: &[f32], b: &[T]) -> f32 {
    let n = a.len().min(b.len());
    let w = L::WIDTH;
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut i = 0;
    // SAFETY: every full load reads `[i, i + w)` with `i + w <= n`; the masked tail reads
    // `[i, n)`; the CPU has `L`'s instruction set (this function's contract).
    unsafe {
        let mut acc = [L::zero(); 4];
        while i + 4 * w <= n {
            for (j, lane) in acc.iter_mut().enumerate() {
                let d = L::sub(L::load(pa.add(i + w * j)), T::load(pb.add(i + w * j)));
                *lane = L::fmadd(d, d, *lane);
            }
            i += 4 * w;
        }
        while i + w <= n {
            let d = L::sub(L::load(pa.add(i)), T::load(pb.add(i)));
            acc[0] = L::fmadd(d, d, acc[0]);
            i += w;
        }
        if L::MASKED_TAIL && i < n {
            let d = L::sub(
                L::load_tail(pa.add(i), n - i),
                T::load_tail(pb.add(i), n - i),
            );
            acc[1] = L::fmadd(d, d, acc[1]);
            i = n;
        }
        let mut s = sum4(acc);
        for k in i..n {
            let d = a[k] - b[k].widen();
            s += d * d;
        }
        s
    }
}

/// `(a·b, b·b)`; the second only when `NORM` (else 0).
///
/// # Safety
///
/// The CPU has `L`'s instruction set.
#[inline(always)]
pub unsafe fn dot_norm<L: Lanes, T: RowElem<L>, const NORM: bool>(
    a: &[f32],
    b: &[T],
) -> (f32, f32) {
    let n = a.len().min(b.len());
    let w = L::WIDTH;
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut i = 0;
    // SAFETY: as in `l2`: loads stay inside `[0, n)` and the CPU has the instruction set.
    unsafe {
        let mut acc = [L::zero(); 4];
        let mut nacc = [L::zero(); 4];
        while i + 4 * w <= n {
            for j in 0..4 {
                let y = T::load(pb.add(i + w * j));
                acc[j] = L::fmadd(L::load(pa.add(i + w * j)), y, acc[j]);
                if NORM {
                    nacc[j] = L::fmadd(y, y, nacc[j]);
                }
            }
            i += 4 * w;
        }
        while i + w <= n {
            let y = T::load(pb.add(i));
            acc[0] = L::fmadd(L::load(pa.add(i)), y, acc[0]);
            if NORM {
                nacc[0] = L::fmadd(y, y, nacc[0]);
            }
            i += w;
        }
        if L::MASKED_TAIL && i < n {
            let y = T::load_tail(pb.add(i), n - i);
            acc[1] = L::fmadd(L::load_tail(pa.add(i), n - i), y, acc[1]);
            if NORM {
                nacc[1] = L::fmadd(y, y, nacc[1]);
            }
            i = n;
        }
        let mut d = sum4(acc);
        let mut m = sum4(nacc);
        for k in i..n {
            let y = b[k].widen();
            d += a[k] * y;
            m += y * y;
        }
        (d, m)
    }
}

/// `a·b`.
///
/// # Safety
///
/// The CPU has `L`'s instruction set.
#[inline(always)]
pub unsafe fn dot<L: Lanes, T: RowElem<L>>(a: &[f32], b: &[T]) -> f32 {
    // SAFETY: this function's contract is `dot_norm`'s.
    unsafe { dot_norm::<L, T, false>(a, b).0 }
}

/// `w·c` for f32 weights and u8 codes: two accumulators of `WIDTH` codes widened to f32.
///
/// # Safety
///
/// The CPU has `L`'s instruction set.
#[inline(always)]
pub unsafe fn dot_u8<L: Lanes>(wts: &[f32], c: &[u8]) -> f32 {
    let n = wts.len().min(c.len());
    let w = L::WIDTH;
    let (pw, pc) = (wts.as_ptr(), c.as_ptr());
    let mut i = 0;
    // SAFETY: full loads read `[i, i + w)` inside `[0, n)` of both slices; masked tails read
    // `[i, n)`; the CPU has `L`'s instruction set.
    unsafe {
        let (mut acc0, mut acc1) = (L::zero(), L::zero());
        while i + 2 * w <= n {
            acc0 = L::fmadd(L::load(pw.add(i)), L::load_u8(pc.add(i)), acc0);
            acc1 = L::fmadd(L::load(pw.add(i + w)), L::load_u8(pc.add(i + w)), acc1);
            i += 2 * w;
        }
        if L::MASKED_TAIL {
            while i < n {
                let left = (n - i).min(w);
                let (x, y) = if left == w {
                    (L::load(pw.add(i)), L::load_u8(pc.add(i)))
                } else {
                    (
                        L::load_tail(pw.add(i), left),
                        L::load_u8_tail(pc.add(i), left),
                    )
                };
                acc0 = L::fmadd(x, y, acc0);
                i += left;
            }
        }
        let mut sum = L::add(acc0, acc1).sum();
        for k in i..n {
            sum += wts[k] * f32::from(c[k]);
        }
        sum
    }
}

/// Dot products of every query in `q` (row-major, `dim` each) with every row of `rows`
/// (row-major), into `out[i * n + j]` for query `i` and row `j` of `n`.
///
/// Tiles of `MR` queries x `NR` rows share each load over several multiply-adds (`MR + NR`
/// loads feed `MR * NR` of them), so the work is bound by arithmetic instead of by reading
/// every row once per query; queries and rows left over at the edges take [`dot`].
///
/// # Safety
///
/// The CPU has `L`'s instruction set.
// Index loops: the tile is addressed as acc[query][row], which iterators would obscure.
#[allow(clippy::needless_range_loop)]
#[inline(always)]
pub unsafe fn dot_tile<L: Lanes, T: RowElem<L>, const MR: usize, const NR: usize>(
    q: &[f32],
    rows: &[T],
    dim: usize,
    out: &mut [f32],
) {
    if dim == 0 {
        out.iter_mut().for_each(|o| *o = 0.0);
        return;
    }
    let (m, n) = (q.len() / dim, rows.len() / dim);
    assert!(out.len() >= m * n, "dot_tile: output too small");
    let w = L::WIDTH;
    let full = dim - dim % w;
    let (tail, scalar_from) = match (L::MASKED_TAIL, dim - full) {
        (_, 0) => (0, dim),
        (true, t) => (t, dim),
        (false, _) => (0, full),
    };
    let (pq, pr) = (q.as_ptr(), rows.as_ptr());
    let (mt, nt) = (m - m % MR, n - n % NR);
    for i in (0..mt).step_by(MR) {
        for j in (0..nt).step_by(NR) {
            // SAFETY: query `i + a < m` and row `j + b < n` start at `(i + a) * dim` and
            // `(j + b) * dim`; full loads read `[k, k + w)` with `k + w <= full <= dim`, the
            // masked tail `[full, dim)`. The CPU has `L`'s instruction set (the contract).
            unsafe {
                let mut acc = [[L::zero(); NR]; MR];
                let mut k = 0;
                while k < full {
                    let mut qv = [L::zero(); MR];
                    for (a, v) in qv.iter_mut().enumerate() {
                        *v = L::load(pq.add((i + a) * dim + k));
                    }
                    for b in 0..NR {
                        let x = T::load(pr.add((j + b) * dim + k));
                        for a in 0..MR {
                            acc[a][b] = L::fmadd(qv[a], x, acc[a][b]);
                        }
                    }
                    k += w;
                }
                if tail > 0 {
                    let mut qv = [L::zero(); MR];
                    for (a, v) in qv.iter_mut().enumerate() {
                        *v = L::load_tail(pq.add((i + a) * dim + full), tail);
                    }
                    for b in 0..NR {
                        let x = T::load_tail(pr.add((j + b) * dim + full), tail);
                        for a in 0..MR {
                            acc[a][b] = L::fmadd(qv[a], x, acc[a][b]);
                        }
                    }
                }
                for a in 0..MR {
                    for b in 0..NR {
                        let mut s = acc[a][b].sum();
                        for c in scalar_from..dim {
                            s += q[(i + a) * dim + c] * rows[(j + b) * dim + c].widen();
                        }
                        out[(i + a) * n + j + b] = s;
                    }
                }
            }
        }
    }
    // The edges: the last queries against every row, the last rows against the tiled queries.
    for i in 0..m {
        let js = if i < mt { nt..n } else { 0..n };
        let qi = &q[i * dim..(i + 1) * dim];
        for j in js {
            // SAFETY: the contract.
            out[i * n + j] = unsafe { dot::<L, T>(qi, &rows[j * dim..(j + 1) * dim]) };
        }
    }
}
