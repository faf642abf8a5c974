// untapped native kernels: OpenBLAS matrix products and fused element-wise work, operating in place
// on the memory of the tfjs wasm backend (a WebAssembly.Memory, seen here as one ArrayBuffer).
//
// Every entry point takes that ArrayBuffer first and byte offsets into it, so no tensor data is
// copied between JavaScript, wasm and native code. Offsets and lengths are checked against the
// buffer before any work; a bad call throws a RangeError instead of touching memory it must not.
//
// Element-wise kernels are written as branch-free loops that the compiler vectorises; they are
// compiled for AVX2+FMA and for baseline x86-64, and the best the CPU supports is chosen at load.
// They run on the calling thread: OpenBLAS's pool is the only thread pool, so nothing is
// oversubscribed.
#include <node_api.h>
#include <cblas.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
int openblas_get_num_procs(void);
char* openblas_get_config(void);
}

namespace {

// ---------------------------------------------------------------------------------------------
// Argument helpers

struct Heap {
  uint8_t* base = nullptr;
  size_t bytes = 0;
};

bool throw_range(napi_env env, const std::string& msg) {
  napi_throw_range_error(env, nullptr, msg.c_str());
  return false;
}

bool get_heap(napi_env env, napi_value v, Heap* h) {
  bool is_ab = false;
  napi_is_arraybuffer(env, v, &is_ab);
  if (!is_ab) {
    napi_throw_type_error(env, nullptr, "untapped native: first argument must be the wasm heap (an ArrayBuffer)");
    return false;
  }
  void* data = nullptr;
  napi_get_arraybuffer_info(env, v, &data, &h->bytes);
  h->base = static_cast<uint8_t*>(data);
  return true;
}

bool get_i64(napi_env env, napi_value v, int64_t* out, const char* name) {
  if (napi_get_value_int64(env, v, out) != napi_ok) {
    std::string m = std::string("untapped native: argument '") + name + "' must be a number";
    napi_throw_type_error(env, nullptr, m.c_str());
    return false;
  }
  return true;
}

// Reads argv[first .. first + count) as integers into out, naming the first bad one.
bool get_i64s(napi_env env, const napi_value* argv, int first, int count, const char* const* names, int64_t* out) {
  for (int i = 0; i < count; i++)
    if (!get_i64(env, argv[first + i], &out[i], names[i])) return false;
  return true;
}

bool get_f64(napi_env env, napi_value v, double* out, const char* name) {
  if (napi_get_value_double(env, v, out) != napi_ok) {
    std::string m = std::string("untapped native: argument '") + name + "' must be a number";
    napi_throw_type_error(env, nullptr, m.c_str());
    return false;
  }
  return true;
}

// A float32 view of `count` values at byte offset `off`, checked against the heap.
bool f32_at(napi_env env, const Heap& h, int64_t off, int64_t count, float** out, const char* name) {
  if (count == 0) {
    *out = nullptr;
    return true;
  }
  if (off < 0 || count < 0 || off % 4 != 0 || static_cast<uint64_t>(off) + static_cast<uint64_t>(count) * 4 > h.bytes) {
    return throw_range(env, std::string("untapped native: '") + name + "' (offset " + std::to_string(off) + ", " +
                                std::to_string(count) + " floats) lies outside the heap of " + std::to_string(h.bytes) + " bytes");
  }
  *out = reinterpret_cast<float*>(h.base + off);
  return true;
}

template <size_t N>
bool get_args(napi_env env, napi_callback_info info, napi_value (&argv)[N], size_t want) {
  size_t argc = N;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < want) {
    std::string m = "untapped native: expected " + std::to_string(want) + " arguments, got " + std::to_string(argc);
    napi_throw_type_error(env, nullptr, m.c_str());
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Element-wise kernels: one copy for AVX2+FMA, one for baseline x86-64 (SSE2), chosen at load.

enum Unary : int { kSoftplus = 0, kSigmoid = 1, kExp = 2 };
enum Act : int { kLinear = 0, kRelu = 1, kRelu6 = 2, kElu = 3, kLeakyRelu = 4, kSigmoidAct = 5 };

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace isa_avx2 {
#include "elementwise.inc"
}
#pragma GCC pop_options
#define UT_HAVE_AVX2 1
#endif
namespace isa_base {
#include "elementwise.inc"
}

struct Kernels {
  void (*softplus)(const float*, float*, int64_t);
  void (*sigmoid)(const float*, float*, int64_t);
  void (*exp)(const float*, float*, int64_t);
  void (*activate)(float*, int64_t, int, float);
  void (*adam)(const float*, const float*, const float*, const float*, float*, float*, float*, int64_t, float, float, float,
               float, float, float, float);
  double (*sum_squares)(const float*, int64_t);
  void (*sum_middle)(const float*, float*, int64_t, int64_t, int64_t);
  const char* isa;
};

Kernels pick_kernels() {
#ifdef UT_HAVE_AVX2
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return {isa_avx2::softplus_loop, isa_avx2::sigmoid_loop, isa_avx2::exp_loop, isa_avx2::activate,
            isa_avx2::adam_loop, isa_avx2::sum_squares, isa_avx2::sum_middle, "avx2+fma"};
  }
#endif
  return {isa_base::softplus_loop, isa_base::sigmoid_loop, isa_base::exp_loop, isa_base::activate,
          isa_base::adam_loop, isa_base::sum_squares, isa_base::sum_middle, "baseline"};
}

const Kernels kernels = pick_kernels();

// ---------------------------------------------------------------------------------------------
// Entry points

// info() -> { config, procs, threads, isa }
napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj, s, p, t;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &s);
  napi_create_int32(env, openblas_get_num_procs(), &p);
  napi_create_int32(env, openblas_get_num_threads(), &t);
  napi_set_named_property(env, obj, "config", s);
  napi_set_named_property(env, obj, "procs", p);
  napi_set_named_property(env, obj, "threads", t);
  napi_value isa;
  napi_create_string_utf8(env, kernels.isa, NAPI_AUTO_LENGTH, &isa);
  napi_set_named_property(env, obj, "isa", isa);
  return obj;
}

// setThreads(n)
napi_value SetThreads(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, argv, 1)) return nullptr;
  int64_t n;
  if (!get_i64(env, argv[0], &n, "threads")) return nullptr;
  if (n < 1 || n > 1024) {
    throw_range(env, "untapped native: threads must be in 1..1024, got " + std::to_string(n));
    return nullptr;
  }
  openblas_set_num_threads(static_cast<int>(n));
  return nullptr;
}

// gemm(heap, aOff, bOff, cOff, batch, M, N, K, transA, transB, strideA, strideB, biasOff, biasLen, act, alpha)
// C[b] = act(op(A[b]) · op(B[b]) + bias) for b < batch, row-major; strides are in floats per batch
// (0 broadcasts one matrix over the batch); biasOff < 0 means no bias; biasLen is 1 or N.
napi_value Gemm(napi_env env, napi_callback_info info) {
  napi_value argv[16];
  if (!get_args(env, info, argv, 16)) return nullptr;
  Heap h;
  if (!get_heap(env, argv[0], &h)) return nullptr;
  static const char* const names[14] = {"aOff", "bOff", "cOff", "batch", "M", "N", "K", "transA", "transB", "strideA", "strideB", "biasOff", "biasLen", "act"};
  int64_t v[14];
  double alpha;
  if (!get_i64s(env, argv, 1, 14, names, v) || !get_f64(env, argv[15], &alpha, "alpha")) return nullptr;
  const int64_t aOff = v[0], bOff = v[1], cOff = v[2], batch = v[3], M = v[4], N = v[5], K = v[6], tA = v[7], tB = v[8], sA = v[9],
                sB = v[10], biasOff = v[11], biasLen = v[12], act = v[13];
  if (batch < 0 || M < 0 || N < 0 || K < 0 || (sA != 0 && sA != M * K) || (sB != 0 && sB != K * N)) {
    throw_range(env, "untapped native: gemm: inconsistent sizes");
    return nullptr;
  }
  float *A, *B, *C, *bias = nullptr;
  const int64_t nA = batch == 0 ? 0 : (sA == 0 ? M * K : batch * M * K);
  const int64_t nB = batch == 0 ? 0 : (sB == 0 ? K * N : batch * K * N);
  if (!f32_at(env, h, aOff, nA, &A, "a") || !f32_at(env, h, bOff, nB, &B, "b") || !f32_at(env, h, cOff, batch * M * N, &C, "out"))
    return nullptr;
  if (biasOff >= 0) {
    if (biasLen != 1 && biasLen != N) {
      throw_range(env, "untapped native: gemm: bias must have 1 or N values");
      return nullptr;
    }
    if (!f32_at(env, h, biasOff, biasLen, &bias, "bias")) return nullptr;
  }
  const int64_t MN = M * N;
  for (int64_t b = 0; b < batch; b++) {
    float* c = C + b * MN;
    float beta = 0.0f;
    if (bias != nullptr) {
      for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) c[i * N + j] = bias[biasLen == 1 ? 0 : j];
      beta = 1.0f;
    } else if (K == 0) {
      std::memset(c, 0, sizeof(float) * MN);
    }
    if (K > 0 && MN > 0) {
      const float* a = A + b * sA;
      const float* bm = B + b * sB;
      cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans, static_cast<int>(M),
                  static_cast<int>(N), static_cast<int>(K), 1.0f, a, static_cast<int>(tA ? M : K), bm,
                  static_cast<int>(tB ? K : N), beta, c, static_cast<int>(N));
    }
  }
  if (act != kLinear && batch * MN > 0) kernels.activate(C, batch * MN, static_cast<int>(act), static_cast<float>(alpha));
  return nullptr;
}

// unary(heap, op, xOff, yOff, n): y = op(x) for op in {0 softplus, 1 sigmoid, 2 exp}.
napi_value UnaryOp(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, argv, 5)) return nullptr;
  Heap h;
  if (!get_heap(env, argv[0], &h)) return nullptr;
  static const char* const names[4] = {"op", "xOff", "yOff", "n"};
  int64_t v[4];
  if (!get_i64s(env, argv, 1, 4, names, v)) return nullptr;
  const int64_t op = v[0], xOff = v[1], yOff = v[2], n = v[3];
  float *x, *y;
  if (!f32_at(env, h, xOff, n, &x, "x") || !f32_at(env, h, yOff, n, &y, "y")) return nullptr;
  if (n == 0) return nullptr;
  switch (op) {
    case kSoftplus: kernels.softplus(x, y, n); break;
    case kSigmoid: kernels.sigmoid(x, y, n); break;
    case kExp: kernels.exp(x, y, n); break;
    default: throw_range(env, "untapped native: unknown unary op " + std::to_string(op));
  }
  return nullptr;
}

// adam(heap, n, gOff, mOff, vOff, pOff, mOut, vOut, pOut, beta1, beta2, eps, stepSize, gScale)
napi_value Adam(napi_env env, napi_callback_info info) {
  napi_value argv[14];
  if (!get_args(env, info, argv, 14)) return nullptr;
  Heap h;
  if (!get_heap(env, argv[0], &h)) return nullptr;
  int64_t n, offs[7];
  double b1, b2, eps, step, gscale;
  static const char* const names[7] = {"g", "m", "v", "p", "mOut", "vOut", "pOut"};
  if (!get_i64(env, argv[1], &n, "n") || !get_i64s(env, argv, 2, 7, names, offs)) return nullptr;
  if (!get_f64(env, argv[9], &b1, "beta1") || !get_f64(env, argv[10], &b2, "beta2") || !get_f64(env, argv[11], &eps, "eps") ||
      !get_f64(env, argv[12], &step, "stepSize") || !get_f64(env, argv[13], &gscale, "gScale"))
    return nullptr;
  float* ptr[7];
  for (int i = 0; i < 7; i++)
    if (!f32_at(env, h, offs[i], n, &ptr[i], names[i])) return nullptr;
  if (n == 0) return nullptr;
  // Constants rounded to float32 exactly as tfjs rounds scalars: b, 1 - b (computed in double).
  kernels.adam(ptr[0], ptr[1], ptr[2], ptr[3], ptr[4], ptr[5], ptr[6], n, static_cast<float>(b1), static_cast<float>(1.0 - b1),
            static_cast<float>(b2), static_cast<float>(1.0 - b2), static_cast<float>(eps), static_cast<float>(step),
            static_cast<float>(gscale));
  return nullptr;
}

// sumSquares(heap, off, n) -> number (accumulated in double)
napi_value SumSquares(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, argv, 3)) return nullptr;
  Heap h;
  if (!get_heap(env, argv[0], &h)) return nullptr;
  int64_t off, n;
  if (!get_i64(env, argv[1], &off, "off") || !get_i64(env, argv[2], &n, "n")) return nullptr;
  float* x;
  if (!f32_at(env, h, off, n, &x, "x")) return nullptr;
  napi_value out;
  napi_create_double(env, n == 0 ? 0.0 : kernels.sum_squares(x, n), &out);
  return out;
}

// reduceSum(heap, xOff, yOff, outer, n, inner): y[o, k] = Σ_i x[o, i, k].
napi_value ReduceSum(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!get_args(env, info, argv, 6)) return nullptr;
  Heap h;
  if (!get_heap(env, argv[0], &h)) return nullptr;
  static const char* const names[5] = {"xOff", "yOff", "outer", "n", "inner"};
  int64_t v[5];
  if (!get_i64s(env, argv, 1, 5, names, v)) return nullptr;
  const int64_t xOff = v[0], yOff = v[1], outer = v[2], n = v[3], inner = v[4];
  if (outer < 0 || n < 0 || inner < 0) {
    throw_range(env, "untapped native: reduceSum: negative size");
    return nullptr;
  }
  float *x, *y;
  if (!f32_at(env, h, xOff, outer * n * inner, &x, "x") || !f32_at(env, h, yOff, outer * inner, &y, "y")) return nullptr;
  if (outer * inner == 0) return nullptr;
  if (n == 0) {
    std::memset(y, 0, sizeof(float) * outer * inner);
    return nullptr;
  }
  kernels.sum_middle(x, y, outer, n, inner);
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unary", nullptr, UnaryOp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adam", nullptr, Adam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reduceSum", nullptr, ReduceSum, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumSquares", nullptr, SumSquares, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
