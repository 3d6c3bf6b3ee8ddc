// ntk_linalg: thin N-API binding of OpenBLAS (CBLAS) and LAPACKE for ntk-sweep.
//
// Implements the operations of src/linalg/backend.ts (`LinalgBackend`) on row-major Float64Array
// buffers, reading and writing the JS memory directly (no copies) except where LAPACK needs its
// own workspace or the interface promises that the input is not modified.
//
// Context awareness: the module is registered through NAPI_MODULE (node-addon-api
// NODE_API_MODULE), keeps no static mutable state, and every call works only on its arguments,
// so any number of worker threads can load it and call it at the same time. The one piece of
// process-wide state is OpenBLAS's own thread count (openblas_set_num_threads), which is global
// to the process by OpenBLAS's design.
//
// Layout tricks (all exact, no arithmetic changes):
//  * A row-major [n, n] buffer read as column-major is the transpose. For a symmetric matrix whose
//    lower triangle is valid (row-major), the column-major view has a valid *upper* triangle, so
//    LAPACK is called column-major with uplo = 'U' on the row-major data.
//  * dpotrf('U') on that view returns U with A = UᵀU; U column-major is exactly L = Uᵀ row-major.
//  * dsyevd returns eigenvectors in the columns of a column-major matrix, i.e. in the rows of the
//    row-major buffer; one in-place transpose puts eigenvector j in column j.

#include <napi.h>

#include "recursion.h"

#include <cblas.h>
#include <lapacke.h>

#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#define NTK_HAVE_DLADDR 1
#endif

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>

// OpenBLAS extensions (declared here too, so the build does not depend on which cblas.h the
// system's alternatives point to; the signatures are those of OpenBLAS's cblas.h).
extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
int openblas_get_num_procs(void);
char* openblas_get_config(void);
char* openblas_get_corename(void);
int openblas_get_parallel(void);
}

namespace {

constexpr int kApiVersion = 3;

struct F64 {
  double* data;
  size_t length;
};

std::string ArgName(const char* fn, const char* name) {
  return std::string(fn) + ": " + name;
}

// A dimension argument: an integer in [0, INT_MAX] (LAPACK/CBLAS use 32-bit ints here).
int Dim(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  Napi::Env env = info.Env();
  if (i >= info.Length() || !info[i].IsNumber()) {
    throw Napi::TypeError::New(env, ArgName(fn, name) + " must be a number");
  }
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0) || v > static_cast<double>(INT_MAX) || std::floor(v) != v) {
    throw Napi::RangeError::New(
        env, ArgName(fn, name) + " must be an integer in [0, 2^31 - 1], got " + std::to_string(v));
  }
  return static_cast<int>(v);
}

double Num(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), ArgName(fn, name) + " must be a number");
  }
  return info[i].As<Napi::Number>().DoubleValue();
}

bool Bool(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  if (i >= info.Length() || !info[i].IsBoolean()) {
    throw Napi::TypeError::New(info.Env(), ArgName(fn, name) + " must be a boolean");
  }
  return info[i].As<Napi::Boolean>().Value();
}

// A Float64Array argument with at least `need` elements (its data pointer, no copy).
F64 Buf(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name, uint64_t need) {
  Napi::Env env = info.Env();
  if (i >= info.Length() || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw Napi::TypeError::New(env, ArgName(fn, name) + " must be a Float64Array");
  }
  Napi::Float64Array arr = info[i].As<Napi::Float64Array>();
  F64 out{arr.Data(), arr.ElementLength()};
  if (static_cast<uint64_t>(out.length) < need) {
    throw Napi::RangeError::New(env, ArgName(fn, name) + " has length " +
                                         std::to_string(out.length) + ", needs at least " +
                                         std::to_string(need));
  }
  return out;
}

// BLAS results are undefined when an output overlaps an input; refuse instead.
void NoOverlap(Napi::Env env, const char* fn, const F64& out, uint64_t outLen, const char* outName,
               const F64& in, uint64_t inLen, const char* inName) {
  if (outLen == 0 || inLen == 0) return;
  const double* o0 = out.data;
  const double* o1 = out.data + outLen;
  const double* i0 = in.data;
  const double* i1 = in.data + inLen;
  if (o0 < i1 && i0 < o1) {
    throw Napi::Error::New(env, std::string(fn) + ": " + outName + " must not overlap " + inName);
  }
}

// Throws if the lower triangle (row-major) of the [n, n] matrix has a NaN or an infinity.
void CheckFiniteLower(Napi::Env env, const char* fn, int n, const double* a) {
  for (int i = 0; i < n; i++) {
    const double* row = a + static_cast<size_t>(i) * n;
    for (int j = 0; j <= i; j++) {
      if (!std::isfinite(row[j])) {
        throw Napi::Error::New(env, std::string(fn) + ": matrix entry [" + std::to_string(i) +
                                        ", " + std::to_string(j) + "] is " +
                                        (std::isnan(row[j]) ? "NaN" : (row[j] > 0 ? "Infinity" : "-Infinity")));
      }
    }
  }
}

// In-place transpose of a square row-major [n, n] matrix, tiled for cache friendliness.
void TransposeInPlace(int n, double* a) {
  constexpr int B = 32;
  const size_t N = static_cast<size_t>(n);
  for (int ib = 0; ib < n; ib += B) {
    const int ie = std::min(ib + B, n);
    // diagonal tile
    for (int i = ib; i < ie; i++) {
      for (int j = ib; j < i; j++) std::swap(a[i * N + j], a[j * N + i]);
    }
    // off-diagonal tiles below it
    for (int jb = ib + B; jb < n; jb += B) {
      const int je = std::min(jb + B, n);
      for (int i = ib; i < ie; i++) {
        for (int j = jb; j < je; j++) std::swap(a[i * N + j], a[j * N + i]);
      }
    }
  }
}

// Copies the strictly lower triangle of a row-major [n, n] matrix onto its upper triangle.
void MirrorLowerToUpper(int n, double* c) {
  constexpr int B = 32;
  const size_t N = static_cast<size_t>(n);
  for (int ib = 0; ib < n; ib += B) {
    const int ie = std::min(ib + B, n);
    for (int jb = 0; jb <= ib; jb += B) {
      const int je = std::min(jb + B, n);
      for (int i = ib; i < ie; i++) {
        const int jmax = std::min(je, i);
        for (int j = jb; j < jmax; j++) c[j * N + i] = c[i * N + j];
      }
    }
  }
}

template <typename T>
std::unique_ptr<T[]> Workspace(Napi::Env env, const char* fn, double count) {
  if (!(count >= 1)) count = 1;
  if (count > static_cast<double>(INT_MAX)) {
    throw Napi::RangeError::New(env, std::string(fn) +
                                         ": LAPACK workspace exceeds 2^31 elements (matrix too "
                                         "large for 32-bit LAPACK)");
  }
  return std::unique_ptr<T[]>(new T[static_cast<size_t>(count)]);  // uninitialised on purpose
}

// gemm(transA, transB, m, n, k, alpha, a, b, beta, c): C ← alpha·op(A)·op(B) + beta·C.
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  const char* fn = "gemm";
  Napi::Env env = info.Env();
  const bool ta = Bool(info, 0, fn, "transA");
  const bool tb = Bool(info, 1, fn, "transB");
  const int m = Dim(info, 2, fn, "m");
  const int n = Dim(info, 3, fn, "n");
  const int k = Dim(info, 4, fn, "k");
  const double alpha = Num(info, 5, fn, "alpha");
  const uint64_t na = static_cast<uint64_t>(m) * k;
  const uint64_t nb = static_cast<uint64_t>(k) * n;
  const uint64_t nc = static_cast<uint64_t>(m) * n;
  F64 a = Buf(info, 6, fn, "a", na);
  F64 b = Buf(info, 7, fn, "b", nb);
  const double beta = Num(info, 8, fn, "beta");
  F64 c = Buf(info, 9, fn, "c", nc);
  NoOverlap(env, fn, c, nc, "c", a, na, "a");
  NoOverlap(env, fn, c, nc, "c", b, nb, "b");
  if (m == 0 || n == 0) return env.Undefined();
  if (k == 0) {
    // op(A)·op(B) is the zero matrix; keep the beta = 0 rule (C's old contents ignored).
    for (uint64_t i = 0; i < nc; i++) c.data[i] = beta == 0 ? 0.0 : beta * c.data[i];
    return env.Undefined();
  }
  const int lda = ta ? m : k;  // A stored [k, m] if transposed, else [m, k]
  const int ldb = tb ? k : n;  // B stored [n, k] if transposed, else [k, n]
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
              k, alpha, a.data, lda, b.data, ldb, beta, c.data, n);
  return env.Undefined();
}

// syrk(n, k, alpha, a, beta, c): C ← alpha·A·Aᵀ + beta·C, A [n, k]; both triangles written.
Napi::Value Syrk(const Napi::CallbackInfo& info) {
  const char* fn = "syrk";
  Napi::Env env = info.Env();
  const int n = Dim(info, 0, fn, "n");
  const int k = Dim(info, 1, fn, "k");
  const double alpha = Num(info, 2, fn, "alpha");
  const uint64_t na = static_cast<uint64_t>(n) * k;
  const uint64_t nc = static_cast<uint64_t>(n) * n;
  F64 a = Buf(info, 3, fn, "a", na);
  const double beta = Num(info, 4, fn, "beta");
  F64 c = Buf(info, 5, fn, "c", nc);
  NoOverlap(env, fn, c, nc, "c", a, na, "a");
  if (n == 0) return env.Undefined();
  if (k == 0) {
    const size_t N = static_cast<size_t>(n);
    for (size_t i = 0; i < N; i++) {
      for (size_t j = 0; j <= i; j++) c.data[i * N + j] = beta == 0 ? 0.0 : beta * c.data[i * N + j];
    }
  } else {
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, n, k, alpha, a.data, k, beta, c.data, n);
  }
  MirrorLowerToUpper(n, c.data);
  return env.Undefined();
}

// eigh(n, a, method?): { values, vectors } with ascending values and eigenvector j in column j.
// method "evd" (default, LAPACK dsyevd, as numpy.linalg.eigh) or "evr" (dsyevr, MRRR).
Napi::Value Eigh(const Napi::CallbackInfo& info) {
  const char* fn = "eigh";
  Napi::Env env = info.Env();
  const int n = Dim(info, 0, fn, "n");
  const uint64_t nn = static_cast<uint64_t>(n) * n;
  F64 a = Buf(info, 1, fn, "a", nn);
  bool useEvr = false;
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    if (!info[2].IsString()) throw Napi::TypeError::New(env, "eigh: method must be a string");
    std::string method = info[2].As<Napi::String>().Utf8Value();
    if (method == "evr") useEvr = true;
    else if (method != "evd") throw Napi::Error::New(env, "eigh: method must be \"evd\" or \"evr\"");
  }
  CheckFiniteLower(env, fn, n, a.data);

  Napi::Float64Array values = Napi::Float64Array::New(env, n);
  Napi::Float64Array vectors = Napi::Float64Array::New(env, nn);
  Napi::Object result = Napi::Object::New(env);
  result.Set("values", values);
  result.Set("vectors", vectors);
  if (n == 0) return result;
  double* w = values.Data();
  double* v = vectors.Data();

  lapack_int info_ = 0;
  if (!useEvr) {
    // dsyevd overwrites its input with the eigenvectors: work in the output buffer.
    std::memcpy(v, a.data, nn * sizeof(double));
    double wq = 0;
    lapack_int iwq = 0;
    info_ = LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, 'V', 'U', n, v, n, w, &wq, -1, &iwq, -1);
    if (info_ != 0) throw Napi::Error::New(env, "eigh: dsyevd workspace query failed, info = " + std::to_string(info_));
    auto work = Workspace<double>(env, fn, wq);
    auto iwork = Workspace<lapack_int>(env, fn, static_cast<double>(iwq));
    info_ = LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, 'V', 'U', n, v, n, w, work.get(),
                                static_cast<lapack_int>(wq < 1 ? 1 : wq), iwork.get(),
                                iwq < 1 ? 1 : iwq);
  } else {
    // dsyevr destroys its input and writes Z separately: copy A to a scratch buffer.
    auto scratch = Workspace<double>(env, fn, static_cast<double>(nn));
    std::memcpy(scratch.get(), a.data, nn * sizeof(double));
    auto isuppz = Workspace<lapack_int>(env, fn, 2.0 * n);
    lapack_int found = 0;
    double wq = 0;
    lapack_int iwq = 0;
    info_ = LAPACKE_dsyevr_work(LAPACK_COL_MAJOR, 'V', 'A', 'U', n, scratch.get(), n, 0, 0, 0, 0,
                                0.0, &found, w, v, n, isuppz.get(), &wq, -1, &iwq, -1);
    if (info_ != 0) throw Napi::Error::New(env, "eigh: dsyevr workspace query failed, info = " + std::to_string(info_));
    auto work = Workspace<double>(env, fn, wq);
    auto iwork = Workspace<lapack_int>(env, fn, static_cast<double>(iwq));
    info_ = LAPACKE_dsyevr_work(LAPACK_COL_MAJOR, 'V', 'A', 'U', n, scratch.get(), n, 0, 0, 0, 0,
                                0.0, &found, w, v, n, isuppz.get(), work.get(),
                                static_cast<lapack_int>(wq < 1 ? 1 : wq), iwork.get(),
                                iwq < 1 ? 1 : iwq);
    if (info_ == 0 && found != n) {
      throw Napi::Error::New(env, "eigh: dsyevr found " + std::to_string(found) + " of " +
                                      std::to_string(n) + " eigenvalues");
    }
  }
  if (info_ < 0) {
    throw Napi::Error::New(env, "eigh: LAPACK argument " + std::to_string(-info_) + " is invalid");
  }
  if (info_ > 0) {
    throw Napi::Error::New(env, std::string("eigh: ") + (useEvr ? "dsyevr" : "dsyevd") +
                                    " failed to converge (info = " + std::to_string(info_) + ")");
  }
  TransposeInPlace(n, v);
  return result;
}

// cholesky(n, a): lower factor L (row-major, zeros above the diagonal) or null if not PD.
Napi::Value Cholesky(const Napi::CallbackInfo& info) {
  const char* fn = "cholesky";
  Napi::Env env = info.Env();
  const int n = Dim(info, 0, fn, "n");
  const uint64_t nn = static_cast<uint64_t>(n) * n;
  F64 a = Buf(info, 1, fn, "a", nn);
  CheckFiniteLower(env, fn, n, a.data);
  Napi::Float64Array out = Napi::Float64Array::New(env, nn);
  if (n == 0) return out;
  double* l = out.Data();
  std::memcpy(l, a.data, nn * sizeof(double));
  const lapack_int info_ = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', n, l, n);
  if (info_ < 0) {
    throw Napi::Error::New(env, "cholesky: LAPACK argument " + std::to_string(-info_) + " is invalid");
  }
  if (info_ > 0) return env.Null();
  const size_t N = static_cast<size_t>(n);
  for (size_t i = 0; i < N; i++) std::fill(l + i * N + i + 1, l + (i + 1) * N, 0.0);
  return out;
}

// choleskyInPlace(n, a): dpotrf on the lower triangle of the row-major a itself (the column-major
// upper triangle); the strict upper triangle is neither read nor written. false if not PD.
Napi::Value CholeskyInPlace(const Napi::CallbackInfo& info) {
  const char* fn = "choleskyInPlace";
  Napi::Env env = info.Env();
  const int n = Dim(info, 0, fn, "n");
  F64 a = Buf(info, 1, fn, "a", static_cast<uint64_t>(n) * n);
  CheckFiniteLower(env, fn, n, a.data);
  if (n == 0) return Napi::Boolean::New(env, true);
  const lapack_int info_ = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', n, a.data, n);
  if (info_ < 0) {
    throw Napi::Error::New(env, "choleskyInPlace: LAPACK argument " + std::to_string(-info_) + " is invalid");
  }
  return Napi::Boolean::New(env, info_ == 0);
}

// symmUpper(rows, n, v, a, out): out ← V·A, V [rows, n], A symmetric [n, n] read from its upper
// triangle (row-major), out [rows, n].
Napi::Value SymmUpper(const Napi::CallbackInfo& info) {
  const char* fn = "symmUpper";
  Napi::Env env = info.Env();
  const int rows = Dim(info, 0, fn, "rows");
  const int n = Dim(info, 1, fn, "n");
  const uint64_t nv = static_cast<uint64_t>(rows) * n;
  const uint64_t na = static_cast<uint64_t>(n) * n;
  F64 v = Buf(info, 2, fn, "v", nv);
  F64 a = Buf(info, 3, fn, "a", na);
  F64 out = Buf(info, 4, fn, "out", nv);
  NoOverlap(env, fn, out, nv, "out", v, nv, "v");
  NoOverlap(env, fn, out, nv, "out", a, na, "a");
  if (rows == 0 || n == 0) return env.Undefined();
  cblas_dsymm(CblasRowMajor, CblasRight, CblasUpper, rows, n, 1.0, a.data, n, v.data, n, 0.0, out.data, n);
  return env.Undefined();
}

// choleskySolve(n, l, nrhs, b): solves (L Lᵀ) X = B in place in b ([n, nrhs] row-major).
// This is exactly LAPACK dpotrs (two triangular solves, dtrsm), called through row-major CBLAS so
// that B is used in place; LAPACKE_dpotrs would transpose B into a temporary copy.
Napi::Value CholeskySolve(const Napi::CallbackInfo& info) {
  const char* fn = "choleskySolve";
  Napi::Env env = info.Env();
  const int n = Dim(info, 0, fn, "n");
  const uint64_t nn = static_cast<uint64_t>(n) * n;
  F64 l = Buf(info, 1, fn, "l", nn);
  const int nrhs = Dim(info, 2, fn, "nrhs");
  const uint64_t nb = static_cast<uint64_t>(n) * nrhs;
  F64 b = Buf(info, 3, fn, "b", nb);
  NoOverlap(env, fn, b, nb, "b", l, nn, "l");
  if (n == 0 || nrhs == 0) return info[3];
  cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, n, nrhs, 1.0,
              l.data, n, b.data, nrhs);
  cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, n, nrhs, 1.0,
              l.data, n, b.data, nrhs);
  return info[3];
}

// mirrorLower(n, a): copies the strictly lower triangle of the row-major [n, n] a onto its upper one.
Napi::Value MirrorLower(const Napi::CallbackInfo& info) {
  const int n = Dim(info, 0, "mirrorLower", "n");
  F64 a = Buf(info, 1, "mirrorLower", "a", static_cast<uint64_t>(n) * n);
  MirrorLowerToUpper(n, a.data);
  return info[1];
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), openblas_get_num_threads());
}

// setNumThreads(k): process-wide OpenBLAS thread count; returns the count now in effect.
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  const int k = Dim(info, 0, "setNumThreads", "threads");
  if (k < 1) throw Napi::RangeError::New(info.Env(), "setNumThreads: threads must be >= 1");
  openblas_set_num_threads(k);
  return Napi::Number::New(info.Env(), openblas_get_num_threads());
}

std::string SymbolLibrary(const void* symbol) {
#ifdef NTK_HAVE_DLADDR
  Dl_info dl;
  if (symbol != nullptr && dladdr(symbol, &dl) != 0 && dl.dli_fname != nullptr) return dl.dli_fname;
#else
  (void)symbol;
#endif
  return "";
}

Napi::Value GetInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  const char* config = openblas_get_config();
  const char* core = openblas_get_corename();
  o.Set("config", config ? config : "");
  o.Set("corename", core ? core : "");
  o.Set("numProcs", openblas_get_num_procs());
  o.Set("numThreads", openblas_get_num_threads());
  // 0 = sequential build, 1 = pthreads, 2 = OpenMP
  o.Set("parallel", openblas_get_parallel());
  o.Set("blasLibrary", SymbolLibrary(reinterpret_cast<const void*>(&cblas_dgemm)));
#ifdef LAPACK_dsyevd_base
  o.Set("lapackLibrary", SymbolLibrary(reinterpret_cast<const void*>(&LAPACK_dsyevd_base)));
#else
  o.Set("lapackLibrary", "");
#endif
  o.Set("lapackeLibrary", SymbolLibrary(reinterpret_cast<const void*>(&LAPACKE_dsyevd_work)));
  o.Set("intBits", static_cast<int>(sizeof(lapack_int) * 8));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("apiVersion", Napi::Number::New(env, kApiVersion));
  exports.Set("gemm", Napi::Function::New(env, Gemm, "gemm"));
  exports.Set("syrk", Napi::Function::New(env, Syrk, "syrk"));
  exports.Set("eigh", Napi::Function::New(env, Eigh, "eigh"));
  exports.Set("cholesky", Napi::Function::New(env, Cholesky, "cholesky"));
  exports.Set("choleskySolve", Napi::Function::New(env, CholeskySolve, "choleskySolve"));
  exports.Set("choleskyInPlace", Napi::Function::New(env, CholeskyInPlace, "choleskyInPlace"));
  exports.Set("symmUpper", Napi::Function::New(env, SymmUpper, "symmUpper"));
  exports.Set("mirrorLower", Napi::Function::New(env, MirrorLower, "mirrorLower"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("getInfo", Napi::Function::New(env, GetInfo, "getInfo"));
  ntk::InitRecursion(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(NODE_GYP_MODULE_NAME, Init)
