// Native pair loop of the ReLU kernel recursion (the inner loop of src/ntk/relu.ts), bit-identical
// to the JS step.
//
// Why bit-identical: the JS step uses V8's Math.sin and Math.asin, which are ports of fdlibm
// (Sun's freely distributable libm, 1993). The functions below follow the same fdlibm
// algorithms (same polynomials, same argument reduction, same order of operations) for the
// arguments the recursion produces (sin on [0, π/2], asin on [0, 1]), and every other operation
// is the same IEEE double arithmetic in the same order as in relu.ts. The build therefore turns
// off floating-point contraction (-ffp-contract=off: no fused multiply-add) and keeps strict IEEE
// semantics (no -ffast-math); -fno-math-errno only lets sqrt become the sqrtpd instruction.
// test/linalg-native.test.ts checks the bits against Math.sin / Math.asin and against the JS step.
//
// Vectorization: the per-pair function has no branches (both sides of every fdlibm branch are
// computed and selected), so GCC vectorizes the loop over j (SSE2 on any x86-64; AVX2 in the
// clone chosen at run time on CPUs that have it, see NTK_TARGET_CLONES).
//
// Threads: the rows of the lower triangle are split into `threads` ranges of equal pair counts;
// every pair is computed independently, so results do not depend on the thread count.

#include "recursion.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NTK_TARGET_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define NTK_TARGET_CLONES
#endif

namespace ntk {
namespace {

inline double FromBits(uint64_t b) {
  double d;
  std::memcpy(&d, &b, sizeof d);
  return d;
}
inline uint64_t ToBits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}
// fdlibm's SET_LOW_WORD(x, 0)
inline double ClearLow(double x) { return FromBits(ToBits(x) & 0xffffffff00000000ULL); }

// fdlibm k_sin.c / k_cos.c coefficients
constexpr double S1 = -1.66666666666666324348e-01;
constexpr double S2 = 8.33333333332248946124e-03;
constexpr double S3 = -1.98412698298579493134e-04;
constexpr double S4 = 2.75573137070700676789e-06;
constexpr double S5 = -2.50507602534068634195e-08;
constexpr double S6 = 1.58969099521155010221e-10;
constexpr double C1 = 4.16666666666666019037e-02;
constexpr double C2 = -1.38888888888741095749e-03;
constexpr double C3 = 2.48015872894767294178e-05;
constexpr double C4 = -2.75573143513906633035e-07;
constexpr double C5 = 2.08757232129817482790e-09;
constexpr double C6 = -1.13596475577881948265e-11;
// fdlibm e_rem_pio2.c: π/2 in pieces
constexpr double PIO2_1 = 1.57079632673412561417e+00;
constexpr double PIO2_1T = 6.07710050650619224932e-11;
constexpr double PIO2_2 = 6.07710050630396597660e-11;
constexpr double PIO2_2T = 2.02226624879595063154e-21;
// fdlibm e_asin.c
constexpr double PIO2_HI = 1.57079632679489655800e+00;
constexpr double PIO2_LO = 6.12323399573676603587e-17;
constexpr double PIO4_HI = 7.85398163397448278999e-01;
constexpr double PS0 = 1.66666666666666657415e-01;
constexpr double PS1 = -3.25565818622400915405e-01;
constexpr double PS2 = 2.01212532134862925881e-01;
constexpr double PS3 = -4.00555345006794114027e-02;
constexpr double PS4 = 7.91534994289814532176e-04;
constexpr double PS5 = 3.47933107596021167570e-05;
constexpr double QS1 = -2.40339491173441421878e+00;
constexpr double QS2 = 2.02094576023350569471e+00;
constexpr double QS3 = -6.88283971605453293030e-01;
constexpr double QS4 = 7.70381505559019352791e-02;

// __kernel_sin(x, 0, 0): sin x for |x| ≤ π/4 (the tiny-|x| shortcut returns the same x).
inline double KSin0(double x) {
  const double z = x * x;
  const double v = z * x;
  const double r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
  return x + v * (S1 + z * r);
}
// __kernel_sin(x, y, 1)
inline double KSin1(double x, double y) {
  const double z = x * x;
  const double v = z * x;
  const double r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
  return x - ((z * (0.5 * y - v * r) - y) - v * S1);
}
// __kernel_cos(x, y) of fdlibm 5.3 (the version V8 ports), branch-free.
inline double KCos(double x, double y) {
  const double ax = std::fabs(x);
  const double z = x * x;
  const double r = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
  const double small = 1.0 - (0.5 * z - (z * r - x * y));
  // qx: 0.28125 above 0.78125, else |x|/4 with its low word cleared
  const double qx = ax >= FromBits(0x3FE9000100000000ULL) ? 0.28125 : ClearLow(ax) * 0.25;
  const double hz = 0.5 * z - qx;
  const double a = 1.0 - qx;
  const double large = a - (hz - (z * r - x * y));
  return ax < FromBits(0x3FD3333300000000ULL) ? small : large;
}
// x ∈ [0, π/2]: does fdlibm's sin/cos take the direct kernel (|x| ≲ π/4, by the high word)?
inline bool Direct(double x) { return x < FromBits(0x3FE921FC00000000ULL); }
// __ieee754_rem_pio2 for x ∈ (π/4, 3π/4): x − π/2 = y0 + y1 (n = 1).
inline void RemPio2(double x, double* y0, double* y1) {
  const bool nearPio2 = x >= FromBits(0x3FF921FB00000000ULL);
  double z = x - PIO2_1;
  z = nearPio2 ? z - PIO2_2 : z;
  const double tail = nearPio2 ? PIO2_2T : PIO2_1T;
  *y0 = z - tail;
  *y1 = (z - *y0) - tail;
}
// fdlibm sin(x) and cos(x) for x ∈ [0, π/2]
inline double SinHalfRange(double x) {
  double y0, y1;
  RemPio2(x, &y0, &y1);
  return Direct(x) ? KSin0(x) : KCos(y0, y1);
}
inline double CosHalfRange(double x) {
  double y0, y1;
  RemPio2(x, &y0, &y1);
  return Direct(x) ? KCos(x, 0.0) : -KSin1(y0, y1);
}
inline double AsinR(double t) {
  const double p = t * (PS0 + t * (PS1 + t * (PS2 + t * (PS3 + t * (PS4 + t * PS5)))));
  const double q = 1.0 + t * (QS1 + t * (QS2 + t * (QS3 + t * QS4)));
  return p / q;
}
// fdlibm __ieee754_asin(x) for x ∈ [0, 1], branch-free.
inline double Asin01(double x) {
  const double small = x + x * AsinR(x * x);
  const double t = (1.0 - x) * 0.5;
  const double r = AsinR(t);
  const double s = std::sqrt(t);
  const double big1 = PIO2_HI - (2.0 * (s + s * r) - PIO2_LO);
  const double w = ClearLow(s);
  const double c = (t - w * w) / (s + w);
  const double p2 = 2.0 * s * r - (PIO2_LO - 2.0 * c);
  const double q2 = PIO4_HI - 2.0 * w;
  const double big2 = PIO4_HI - (p2 - q2);
  const double one = x * PIO2_HI + x * PIO2_LO;
  return x >= 1.0 ? one : x < 0.5 ? small : x >= FromBits(0x3FEF333300000000ULL) ? big1 : big2;
}

constexpr double PI = 3.141592653589793;
constexpr double HALF_PI = PI / 2;
constexpr double INV_PI = 1 / PI;
// Taylor coefficients of sin θ − θ cos θ (src/ntk/trig.ts)
constexpr double G1 = 1.0 / 3;
constexpr double G2 = -1.0 / 30;
constexpr double G3 = 1.0 / 840;
constexpr double G4 = -1.0 / 45360;
constexpr double G5 = 1.0 / 3991680;
constexpr double G6 = -1.0 / 518918400;
constexpr double G7 = 1.0 / 93405312000;
constexpr double G8 = -1.0 / 22230464256000;
constexpr double SERIES_THETA = 0.5;


struct ReluCoef {
  const double* w;
  const double* c;
  const double* p;
  const double* q;
};

// How a chunk's angles sit against SERIES_THETA: all below, all at or above, or both.
enum GForm { kSeries, kDirect, kMixed };

// sin θ − θ cos θ by its Taylor series (trig.ts), for θ < SERIES_THETA.
inline double SeriesG(double th) {
  const double t2 = th * th;
  return t2 * th * (G1 + t2 * (G2 + t2 * (G3 + t2 * (G4 + t2 * (G5 + t2 * (G6 + t2 * (G7 + t2 * G8)))))));
}

inline double GOf(GForm form, double th, double sinT, double cosT) {
  if (form == kDirect) return sinT - th * cosT;
  const double series = SeriesG(th);
  if (form == kSeries) return series;
  return th < SERIES_THETA ? series : sinT - th * cosT;
}

// First half of relu.ts's pair loop over one chunk of row i: 1 − ρ^{l+1} into omr[], Θ̄ in place.
// kAcute: every angle of the chunk ≤ π/2, so cos(θ/2) = sqrt(1 − sin²(θ/2)) as in relu.ts.
template <bool kNtk, bool kAcute, GForm kG>
NTK_TARGET_CLONES void ChunkOmr(int len, const double* __restrict T, double* __restrict B, const double* __restrict w,
                                const double* __restrict c, const double* __restrict p, const double* __restrict q,
                                double wi, double ci, double pi, double qi, double* __restrict omr) {
  for (int j = 0; j < len; j++) {
    const double th = T[j];
    const double x = 0.5 * th;
    double h, k;
    if (kAcute) {
      h = KSin0(x);
      k = std::sqrt(1 - h * h);
    } else {
      h = SinHalfRange(x);
      k = th <= HALF_PI ? std::sqrt(1 - h * h) : CosHalfRange(x);
    }
    const double u = 2 * h * h;
    const double sinT = 2 * h * k;
    const double cosT = 1 - u;
    const double g = GOf(kG, th, sinT, cosT);
    const double oneMinusJ = u - g * INV_PI;
    const double wj = w[j];
    const double cj = c[j];
    const double ww = wi * wj;
    const double dw = wi - wj;
    const double dc = ci - cj;
    const double oneMinusRho = ww * oneMinusJ + 0.5 * (dw * dw + dc * dc);
    if (kNtk) {
      const double rho = 1 - oneMinusRho;
      B[j] = pi * p[j] * B[j] * (1 - th * INV_PI) + qi * q[j] * rho;
    }
    omr[j] = std::sqrt(0.5 * oneMinusRho);  // sin(θ^{l+1}/2)
  }
}

// Second half: θ^{l+1} = 2 asin(min(hn, 1)); kSmall when every hn of the chunk is < 0.5.
template <bool kSmall>
NTK_TARGET_CLONES void ChunkAsin(int len, const double* __restrict hn, double* __restrict T) {
  for (int j = 0; j < len; j++) {
    const double x = hn[j] < 1 ? hn[j] : 1;
    T[j] = 2 * (kSmall ? x + x * AsinR(x * x) : Asin01(x));
  }
}

template <bool kNtk>
void ReluChunk(int len, double* T, double* B, const double* w, const double* c, const double* p, const double* q,
               double wi, double ci, double pi, double qi, double* tmp) {
  double mx = 0;
  double mn = HALF_PI;
  for (int j = 0; j < len; j++) {
    mx = T[j] > mx ? T[j] : mx;
    mn = T[j] < mn ? T[j] : mn;
  }
  const GForm g = mx < SERIES_THETA ? kSeries : mn >= SERIES_THETA ? kDirect : kMixed;
  const auto omr = !(mx <= HALF_PI) ? ChunkOmr<kNtk, false, kMixed>
                   : g == kSeries   ? ChunkOmr<kNtk, true, kSeries>
                   : g == kDirect   ? ChunkOmr<kNtk, true, kDirect>
                                    : ChunkOmr<kNtk, true, kMixed>;
  omr(len, T, B, w, c, p, q, wi, ci, pi, qi, tmp);
  double hmax = 0;
  for (int j = 0; j < len; j++) hmax = tmp[j] > hmax ? tmp[j] : hmax;
  (hmax < 0.5 ? ChunkAsin<true> : ChunkAsin<false>)(len, tmp, T);
}

// Rows [i0, i1) of the lower triangle, in chunks of kChunk pairs (branch choices per chunk).
constexpr int kChunk = 256;
void ReluRows(int n, int i0, int i1, double* theta, double* ntkBar, ReluCoef co) {
  const size_t N = static_cast<size_t>(n);
  double tmp[kChunk];
  for (int i = std::max(i0, 1); i < i1; i++) {
    double* T = theta + i * N;
    double* B = ntkBar == nullptr ? nullptr : ntkBar + i * N;
    const auto chunk = B ? ReluChunk<true> : ReluChunk<false>;
    for (int j0 = 0; j0 < i; j0 += kChunk) {
      const int len = std::min(kChunk, i - j0);
      chunk(len, T + j0, B ? B + j0 : nullptr, co.w + j0, co.c + j0, co.p + j0, co.q + j0, co.w[i], co.c[i], co.p[i], co.q[i], tmp);
    }
  }
}

// Row boundaries splitting the lower triangle of n rows into `parts` ranges of ~equal pair counts.
std::vector<int> RowSplit(int n, int parts) {
  std::vector<int> b(parts + 1);
  for (int k = 0; k <= parts; k++) {
    b[k] = static_cast<int>(std::lround(n * std::sqrt(static_cast<double>(k) / parts)));
  }
  b[parts] = n;
  return b;
}

// Run body(i0, i1) over the rows, on up to `threads` threads (1 below ~100k pairs).
template <typename F>
void ParallelRows(int n, int threads, F body) {
  const double pairs = 0.5 * n * (n - 1.0);
  int parts = std::max(1, std::min(threads, static_cast<int>(pairs / 50000)));
  if (parts == 1) {
    body(0, n);
    return;
  }
  const std::vector<int> b = RowSplit(n, parts);
  std::vector<std::thread> pool;
  pool.reserve(parts - 1);
  for (int k = 1; k < parts; k++) pool.emplace_back(body, b[k], b[k + 1]);
  body(b[0], b[1]);
  for (auto& t : pool) t.join();
}

Napi::Float64Array F64Arg(const Napi::CallbackInfo& info, size_t i, const char* name, size_t need) {
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw Napi::TypeError::New(info.Env(), std::string("native recursion: ") + name + " must be a Float64Array");
  }
  Napi::Float64Array a = info[i].As<Napi::Float64Array>();
  if (a.ElementLength() < need) {
    throw Napi::RangeError::New(info.Env(), std::string("native recursion: ") + name + " has length " +
                                                std::to_string(a.ElementLength()) + ", needs " + std::to_string(need));
  }
  return a;
}

// The point count n (an integer in [0, 3e6]) at argument i of `fn`.
int PointsArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  const double nd = info[i].As<Napi::Number>().DoubleValue();
  if (!(nd >= 0 && nd <= 3e6 && std::floor(nd) == nd)) {
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": n must be an integer in [0, 3e6]");
  }
  return static_cast<int>(nd);
}

// The thread count at argument i, clamped to [1, 64].
int ThreadsArg(const Napi::CallbackInfo& info, size_t i) {
  return std::max(1, std::min(64, info[i].As<Napi::Number>().Int32Value()));
}

// reluPairs(n, theta, ntkBar | null, w, c, p, q, threads): the pair loop of relu.ts in place.
Napi::Value ReluPairs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 8 || !info[0].IsNumber() || !info[7].IsNumber()) {
    throw Napi::TypeError::New(env, "reluPairs(n, theta, ntkBar, w, c, p, q, threads)");
  }
  const int n = PointsArg(info, 0, "reluPairs");
  const size_t nn = static_cast<size_t>(n) * n;
  double* theta = F64Arg(info, 1, "theta", nn).Data();
  double* ntkBar = info[2].IsNull() ? nullptr : F64Arg(info, 2, "ntkBar", nn).Data();
  ReluCoef co{F64Arg(info, 3, "w", n).Data(), F64Arg(info, 4, "c", n).Data(), F64Arg(info, 5, "p", n).Data(),
              F64Arg(info, 6, "q", n).Data()};
  const int threads = ThreadsArg(info, 7);
  if (ntkBar != nullptr && ntkBar == theta) throw Napi::Error::New(env, "reluPairs: theta and ntkBar must differ");
  ParallelRows(n, threads, [=](int i0, int i1) { ReluRows(n, i0, i1, theta, ntkBar, co); });
  return env.Undefined();
}

// ---------------------------------------------------------------------------------------------
// The general layer map of src/ntk/layer.ts (`advancePairs`) for the closed-form activations of
// src/ntk/activations.ts, with the C library's math functions (glibc: sin, atan2, asin, exp, ...).
// Same formulas and order of operations as the JS, but glibc and V8 round some functions
// differently in the last bit, so this path is NOT bit-identical to the JS one (the accuracy is
// the same: test/ntk-activations.test.ts runs against decimal.js on both backends). Scalar loop;
// rows split over the threads as for ReLU.

enum ActKind { kAB, kIdentity, kRelu2, kStep, kErf, kSin, kCos, kGaussian, kGelu };

struct ActSpec {
  ActKind kind;
  double alpha2, beta2, s, slopeD;  // the a·x / b·x family (leaky_relu, abs)
};

inline double Smtc(double th, double sinT, double cosT) {  // sin θ − θ cos θ (trig.ts)
  return th < SERIES_THETA ? SeriesG(th) : sinT - th * cosT;
}

inline double Arccos2Remainder(double th, double sinT, double cosT) {  // trig.ts
  if (th < SERIES_THETA) {
    const double f = 2 * th;
    const double f2 = f * f;
    double term = (f2 * f2 * f) / 120;
    double sum = term;
    for (int k = 3; k <= 13; k++) {
      term *= -f2 / ((2 * k) * (2 * k + 1));
      sum += (k - 1) * term;
    }
    return sum;
  }
  return 3 * (th - sinT * cosT) - 2 * th * sinT * sinT;
}

inline double LogSinh(double y) { return y < 20 ? std::log(std::sinh(y)) : y - M_LN2 + std::log1p(-std::exp(-2 * y)); }
inline double LogCosh(double y) {
  const double a = std::fabs(y);
  return a - M_LN2 + std::log1p(std::exp(-2 * a));
}

struct GeluD {
  double k, d;
};
inline GeluD GeluDual(double a, double b, double c) {
  const double delta = (1 + a) * (1 + b) - c * c;
  const double P = 2 / PI / std::sqrt(delta);
  const double A = (2 / PI) * std::asin(std::max(-1.0, std::min(1.0, c / std::sqrt((1 + a) * (1 + b)))));
  const double psi = P * (a * b - (a * c * c) / (1 + a) + (c * c) / (1 + b)) + c * A;
  const double chi = A + c * P * (1 / (1 + a) + 1 / (1 + b)) + ((2 / PI) * c) / (delta * std::sqrt(delta));
  return {c / 4 + psi / 4, 0.25 + chi / 4};
}

// out = {1 − k̄, 1 + k̄, ḋ} of activations.ts's `pair`.
inline void ActPair(const ActSpec& a, double qi, double qj, double th, double h, double k, double* out) {
  switch (a.kind) {
    case kAB: {
      const double sinT = 2 * h * k;
      const double cosT = (k - h) * (k + h);
      const double g = Smtc(th, sinT, cosT);
      const double absOm = th <= PI / 2 ? 2 * h * h - 2 * INV_PI * Smtc(th, sinT, cosT)
                                        : 2 * k * k - 2 * INV_PI * Smtc(PI - th, sinT, -cosT);
      out[0] = (a.alpha2 * 2 * h * h + a.beta2 * absOm) / a.s;
      out[1] = (a.alpha2 * 2 * k * k + a.beta2 * (2 * k * k + 2 * INV_PI * g)) / a.s;
      out[2] = 1 - a.slopeD * th;
      return;
    }
    case kIdentity:
      out[0] = 2 * h * h;
      out[1] = 2 * k * k;
      out[2] = 1;
      return;
    case kRelu2: {
      const double sinT = 2 * h * k;
      const double cosT = (k - h) * (k + h);
      const double j2 = 3 * sinT * cosT + (PI - th) * (1 + 2 * cosT * cosT);
      out[0] = (2 * PI * sinT * sinT + Arccos2Remainder(th, sinT, cosT)) / (3 * PI);
      out[1] = 1 + j2 / (3 * PI);
      out[2] = 1 - (2 * h * h - INV_PI * Smtc(th, sinT, cosT));
      return;
    }
    case kStep:
      out[0] = th * INV_PI;
      out[1] = 2 - th * INV_PI;
      out[2] = NAN;
      return;
    case kErf: {
      const double ti = (2 * qi) / (1 + 2 * qi);
      const double tj = (2 * qj) / (1 + 2 * qj);
      const double T = std::sqrt(ti * tj);
      const double g = std::sqrt(std::asin(ti) * std::asin(tj));
      const double am = std::asin(T);
      const double cosT = (k - h) * (k + h);
      const double sin2 = 4 * h * h * k * k;
      const double ac = std::fabs(cosT);
      const double diff = std::asin((T * sin2) / (std::sqrt(1 - T * T * ac * ac) + ac * std::sqrt(1 - T * T)));
      const double sum = am + std::asin(ac * T);
      const double points = g - am;
      out[0] = std::max(0.0, (points + (cosT >= 0 ? diff : sum)) / g);
      out[1] = std::max(0.0, (points + (cosT >= 0 ? sum : diff)) / g);
      out[2] = std::sqrt(std::sqrt((1 + 4 * qi) * (1 + 4 * qj)) / (1 + 2 * qi + 2 * qj + 4 * qi * qj * sin2));
      return;
    }
    case kSin:
    case kCos: {
      const bool isSin = a.kind == kSin;
      const double m = std::sqrt(qi * qj);
      const double cosT = (k - h) * (k + h);
      const double logG = isSin ? 0.5 * (LogSinh(qi) + LogSinh(qj)) : 0.5 * (LogCosh(qi) + LogCosh(qj));
      const double points = -std::expm1((isSin ? LogSinh(m) : LogCosh(m)) - logG);
      const double av = m * k * k;
      const double bv = m * h * h;
      const double minus = bv > 0 ? std::exp(M_LN2 + (isSin ? LogCosh(av) : LogSinh(av)) + LogSinh(bv) - logG) : 0;
      const double plus = av > 0 ? std::exp(M_LN2 + (isSin ? LogSinh(av) : LogCosh(av)) + LogCosh(bv) - logG) : 0;
      out[0] = std::max(0.0, points + minus);
      out[1] = std::max(0.0, points + plus);
      const double mc = m * cosT;
      const double mag = mc == 0 && !isSin ? 0
                         : std::exp((isSin ? LogCosh(std::fabs(mc)) : LogSinh(std::fabs(mc))) -
                                    0.5 * (isSin ? LogCosh(qi) + LogCosh(qj) : LogSinh(qi) + LogSinh(qj)));
      out[2] = isSin || mc >= 0 ? mag : -mag;
      return;
    }
    case kGaussian: {
      const double sin2 = 4 * h * h * k * k;
      const double d0 = std::sqrt((1 + 2 * qi) * (1 + 2 * qj));
      const double dmd0 = ((qi - qj) * (qi - qj)) / (1 + qi + qj + d0) + qi * qj * sin2;
      const double dd = d0 + dmd0;
      const double r = std::sqrt(d0 / dd);
      out[0] = dmd0 / (std::sqrt(dd) * (std::sqrt(dd) + std::sqrt(d0)));
      out[1] = 1 + r;
      out[2] = (k - h) * (k + h) * r * r * r;
      return;
    }
    case kGelu: {
      if (th == 0 && qi == qj) {
        out[0] = 0;
        out[1] = 2;
        out[2] = 1;
        return;
      }
      const double cosT = (k - h) * (k + h);
      const GeluD ii = GeluDual(qi, qi, qi);
      const GeluD jj = GeluDual(qj, qj, qj);
      const GeluD ij = GeluDual(qi, qj, cosT * std::sqrt(qi * qj));
      const double g = std::sqrt(ii.k * jj.k);
      out[0] = std::max(0.0, (g - ij.k) / g);
      out[1] = std::max(0.0, (g + ij.k) / g);
      out[2] = ij.d / std::sqrt(ii.d * jj.d);
      return;
    }
  }
}

struct LayerCoef {
  const double* w;
  const double* c;
  const double* p;
  const double* q;
  const double* qv;
};

void ActRows(const ActSpec& a, int n, int i0, int i1, double* theta, double* ntkBar, LayerCoef co) {
  const size_t N = static_cast<size_t>(n);
  double out[3] = {0, 0, 0};
  for (int i = std::max(i0, 1); i < i1; i++) {
    for (int j = 0; j < i; j++) {
      const size_t idx = i * N + j;
      const double th = theta[idx];
      const double hh = std::sin(0.5 * th);
      const double kk = th <= HALF_PI ? std::sqrt(1 - hh * hh) : std::cos(0.5 * th);
      ActPair(a, co.qv[i], co.qv[j], th, hh, kk, out);
      const double ww = co.w[i] * co.w[j];
      const double dw = co.w[i] - co.w[j];
      const double dc = co.c[i] - co.c[j];
      const double sc = co.c[i] + co.c[j];
      const double omr = ww * out[0] + 0.5 * (dw * dw + dc * dc);
      const double opr = ww * out[1] + 0.5 * (dw * dw + sc * sc);
      if (ntkBar != nullptr) {
        const double rho = omr <= opr ? 1 - omr : opr - 1;
        ntkBar[idx] = co.p[i] * co.p[j] * ntkBar[idx] * out[2] + co.q[i] * co.q[j] * rho;
      }
      theta[idx] = 2 * std::atan2(std::sqrt(omr), std::sqrt(opr));
    }
  }
}

// activationPairs(name, a, b, n, theta, ntkBar | null, w, c, p, q, qv, threads): advancePairs.
Napi::Value ActivationPairs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 12 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsNumber() ||
      !info[11].IsNumber()) {
    throw Napi::TypeError::New(env, "activationPairs(name, a, b, n, theta, ntkBar, w, c, p, q, qv, threads)");
  }
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  const double a = info[1].As<Napi::Number>().DoubleValue();
  const double b = info[2].As<Napi::Number>().DoubleValue();
  ActSpec spec{kAB, 0, 0, 0, 0};
  if (name == "leaky_relu" || name == "abs" || name == "relu") {
    spec.alpha2 = ((a + b) / 2) * ((a + b) / 2);
    spec.beta2 = ((b - a) / 2) * ((b - a) / 2);
    spec.s = spec.alpha2 + spec.beta2;
    spec.slopeD = ((a - b) * (a - b)) / ((a * a + b * b) * PI);
  } else if (name == "identity") spec.kind = kIdentity;
  else if (name == "relu2") spec.kind = kRelu2;
  else if (name == "step") spec.kind = kStep;
  else if (name == "erf") spec.kind = kErf;
  else if (name == "sin") spec.kind = kSin;
  else if (name == "cos") spec.kind = kCos;
  else if (name == "gaussian") spec.kind = kGaussian;
  else if (name == "gelu") spec.kind = kGelu;
  else throw Napi::Error::New(env, "activationPairs: no native dual maps for activation '" + name + "'");
  const int n = PointsArg(info, 3, "activationPairs");
  const size_t nn = static_cast<size_t>(n) * n;
  double* theta = F64Arg(info, 4, "theta", nn).Data();
  double* ntkBar = info[5].IsNull() ? nullptr : F64Arg(info, 5, "ntkBar", nn).Data();
  LayerCoef co{F64Arg(info, 6, "w", n).Data(), F64Arg(info, 7, "c", n).Data(), F64Arg(info, 8, "p", n).Data(),
               F64Arg(info, 9, "q", n).Data(), F64Arg(info, 10, "qv", n).Data()};
  const int threads = ThreadsArg(info, 11);
  ParallelRows(n, threads, [=](int i0, int i1) { ActRows(spec, n, i0, i1, theta, ntkBar, co); });
  return env.Undefined();
}

// Elementwise fdlibm sin (x ∈ [0, π/2]) and asin (x ∈ [0, 1]) of this file, for the bit test.
Napi::Value FdlibmProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = info[0].As<Napi::String>().Utf8Value();
  Napi::Float64Array x = info[1].As<Napi::Float64Array>();
  Napi::Float64Array out = Napi::Float64Array::New(env, x.ElementLength());
  for (size_t i = 0; i < x.ElementLength(); i++) {
    const double v = x[i];
    out[i] = fn == "sin" ? SinHalfRange(v) : fn == "cos" ? CosHalfRange(v) : Asin01(v);
  }
  return out;
}

}  // namespace

void InitRecursion(Napi::Env env, Napi::Object exports) {
  exports.Set("reluPairs", Napi::Function::New(env, ReluPairs, "reluPairs"));
  exports.Set("activationPairs", Napi::Function::New(env, ActivationPairs, "activationPairs"));
  exports.Set("fdlibmProbe", Napi::Function::New(env, FdlibmProbe, "fdlibmProbe"));
}

}  // namespace ntk
