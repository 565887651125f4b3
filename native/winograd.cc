// Winograd's minimal filtering F(m×m, 3×3) for 3×3 stride-1 convolutions, as
// TensorFlow ops registered through TensorFlow's C kernel API: the input
// transform, the output transform (with bias and relu as it writes), and the
// adjoints of both for the gradients, whose products in the transformed domain
// are TensorFlow's own batched matrix products (src/engine/ops/winograd.ts);
// and the forward convolution whole, transforms and products fused tile block
// by tile block, so its transformed tensors never leave the cache.
//
// Why ops of their own: composed from TensorFlow's general ops (patch
// extraction, transposes, element-wise sums), each transform costs several
// passes over tensors of tens of MB and the whole convolution ends up slower
// than the direct one (docs/PERFORMANCE.md). Here each transform is one pass.
//
// Layouts, float32: x [N, H, W, C] (NHWC); the transformed input or output
// [a·a, P, C] with a = m + 2 and P = N · tilesH · tilesW, tile-major, so the
// products are a·a independent [P, C] × [C, K] matrix products.
//
// Built as a Node addon: requiring it registers the ops with the TensorFlow
// already loaded by @tensorflow/tfjs-node.
#include <node_api.h>

// Sums of products as fused multiply-adds (ISO C++ modes leave them apart): one rounding instead of two, and twice
// the products per cycle in the products' inner loop.
#if defined(__clang__)
#pragma clang fp contract(fast)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=fast")
#endif

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tensorflow/c/kernels.h"
#include "tensorflow/c/ops.h"
#include "tensorflow/c/tf_status.h"
#include "tensorflow/c/tf_tensor.h"

namespace {

// The transforms' matrices (Lavin & Gray's construction): y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A; G is in winograd.ts.
template <int M>
struct Matrices;

template <>
struct Matrices<2> {
  static constexpr float BT[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
  static constexpr float AT[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
};

// At m = 4 the points 0, 1, −1, 2, −1/2 (not Lavin & Gray's 0, ±1, ±2): the same multiplications, and the error
// against float64 falls from about 5e-6 to 2e-6 of the largest value on the seed's shapes (Barabasz et al., 2020).
template <>
struct Matrices<4> {
  static constexpr float BT[6][6] = {{1, 1.5f, -2, -1.5f, 1, 0},   {0, -1, -2.5f, -0.5f, 1, 0}, {0, 1, 0.5f, -2.5f, 1, 0},
                                     {0, -0.5f, -1, 0.5f, 1, 0}, {0, 2, -1, -2, 1, 0},        {0, 1, 1.5f, -2, -1.5f, 1}};
  static constexpr float AT[4][6] = {
      {1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -0.5f, 0}, {0, 1, 1, 4, 0.25f, 0}, {0, 1, -1, 8, -0.125f, 1}};
};

struct Geometry {
  int64_t n, h, w, c;     // the input image's dimensions (the gradient's output's, for the input's adjoint)
  int64_t outH, outW, k;  // the convolution's output
  int64_t padTop, padLeft;
  int64_t m;  // the tile's output rows and columns
  int64_t tilesH() const { return (outH + m - 1) / m; }
  int64_t tilesW() const { return (outW + m - 1) / m; }
  int64_t tiles() const { return n * tilesH() * tilesW(); }
};

// Runs body(begin, end) over [0, count) on the machine's cores.
template <typename Body>
void parallel(int64_t count, Body body) {
  static const int cores = std::max(1u, std::thread::hardware_concurrency());
  const int workers = static_cast<int>(std::min<int64_t>(cores, count));
  if (workers <= 1) return body(0, count);
  std::vector<std::thread> threads;
  const int64_t share = (count + workers - 1) / workers;
  for (int t = 1; t < workers; ++t)
    threads.emplace_back([=] { body(std::min(count, t * share), std::min(count, (t + 1) * share)); });
  body(0, std::min(count, share));
  for (auto& thread : threads) thread.join();
}

// Bytes of transformed rows a worker gathers before writing them out: large enough that each of the a·a planes
// gets a long contiguous run (few memory streams at once), small enough to stay in L2.
constexpr int64_t kGroupBytes = 128 << 10;

inline void copy(float* dst, const float* src, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i];
}

// Eight floats: one AVX register, or two SSE ones where the build has no AVX.
typedef float Lanes __attribute__((vector_size(32)));
constexpr int kLanes = 8;

template <typename T>
inline T load(const float* p) {
  T v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}

template <typename T>
inline void store(float* p, T v) {
  __builtin_memcpy(p, &v, sizeof v);
}

// out[i][j][k…] = Σ_r Σ_s L[i][r] in[r][s][k…] R[j][s] for the channels at k (T: one lane or eight), with rows of
// c floats. The matrices are compile-time constants, so the unrolled loops keep only their non-zero terms and the
// sums stay in registers.
template <typename T, int I, int J, int S>
inline __attribute__((always_inline)) void sandwichAt(const float (&L)[I][S], const float (&R)[J][S], const float* in,
                                                      float* out, int64_t c, int64_t k) {
  T half[I][S];
#pragma GCC unroll 8
  for (int s = 0; s < S; ++s) {
    T column[S];
#pragma GCC unroll 8
    for (int r = 0; r < S; ++r) column[r] = load<T>(in + (r * S + s) * c + k);
#pragma GCC unroll 8
    for (int i = 0; i < I; ++i) {
      T sum = column[0] * L[i][0];
#pragma GCC unroll 8
      for (int r = 1; r < S; ++r)
        if (L[i][r] != 0) sum += column[r] * L[i][r];
      half[i][s] = sum;
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < I; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < J; ++j) {
      T sum = half[i][0] * R[j][0];
#pragma GCC unroll 8
      for (int s = 1; s < S; ++s)
        if (R[j][s] != 0) sum += half[i][s] * R[j][s];
      store<T>(out + (i * J + j) * c + k, sum);
    }
}

// The two-sided transform of every transform here (Bᵀ d B, Aᵀ M A and their adjoints), over all c channels: in is
// S×S rows of c floats, out I×J rows.
template <int I, int J, int S>
inline __attribute__((always_inline)) void sandwich(const float (&L)[I][S], const float (&R)[J][S], const float* in,
                                                    float* out, int64_t c) {
  int64_t k = 0;
  for (; k + kLanes <= c; k += kLanes) sandwichAt<Lanes>(L, R, in, out, c, k);
  for (; k < c; ++k) sandwichAt<float>(L, R, in, out, c, k);
}

// A matrix in memory: element (r, i) at data[r · row + i · col].
struct Strided {
  const float* data;
  int64_t row, col;
};

// c[r, ·] (+)= Σ_i a(r, i) b[i, ·] for R rows of a and NV vectors V of columns of b and c (row strides ldb and ldc),
// the sums in registers.
template <typename V, int R, int NV, bool Add>
inline __attribute__((always_inline)) void productBlock(Strided a, const float* b, int64_t ldb, float* c, int64_t ldc,
                                                        int64_t depth) {
  constexpr int W = sizeof(V) / sizeof(float);
  V sum[R][NV] = {};
  for (int64_t i = 0; i < depth; ++i) {
    V row[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) row[j] = load<V>(b + i * ldb + j * W);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const float scale = a.data[r * a.row + i * a.col];
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) sum[r][j] += scale * row[j];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < NV; ++j) {
      float* at = c + r * ldc + j * W;
      store<V>(at, Add ? load<V>(at) + sum[r][j] : sum[r][j]);
    }
}

// c (+)= a b for a [rows, depth], b [depth, K] (row stride ldb) and c [rows, K] (row stride ldc), in vectors V.
template <typename V, bool Add>
inline __attribute__((always_inline)) void productIn(int64_t rows, int64_t depth, int64_t K, Strided a,
                                                     const float* b, int64_t ldb, float* c, int64_t ldc) {
  constexpr int W = sizeof(V) / sizeof(float);
  const auto from = [&](int64_t r) { return Strided{a.data + r * a.row, a.row, a.col}; };
  int64_t k = 0;
  for (; k + 2 * W <= K; k += 2 * W) {
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) productBlock<V, 4, 2, Add>(from(r), b + k, ldb, c + r * ldc + k, ldc, depth);
    for (; r < rows; ++r) productBlock<V, 1, 2, Add>(from(r), b + k, ldb, c + r * ldc + k, ldc, depth);
  }
  for (; k + W <= K; k += W) {
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) productBlock<V, 4, 1, Add>(from(r), b + k, ldb, c + r * ldc + k, ldc, depth);
    for (; r < rows; ++r) productBlock<V, 1, 1, Add>(from(r), b + k, ldb, c + r * ldc + k, ldc, depth);
  }
  for (; k < K; ++k)
    for (int64_t r = 0; r < rows; ++r) {
      float sum = 0;
      for (int64_t i = 0; i < depth; ++i) sum += a.data[r * a.row + i * a.col] * b[i * ldb + k];
      c[r * ldc + k] = Add ? c[r * ldc + k] + sum : sum;
    }
}

#if defined(__x86_64__)
// Sixteen floats: one AVX-512 register.
typedef float Wide __attribute__((vector_size(64)));

template <bool Add>
__attribute__((target("avx512f"))) void productWide(int64_t rows, int64_t depth, int64_t K, Strided a, const float* b,
                                                    int64_t ldb, float* c, int64_t ldc) {
  productIn<Wide, Add>(rows, depth, K, a, b, ldb, c, ldc);
}

// AVX-512's registers where the CPU has them, unless oneDNN is held below AVX-512 (ONEDNN_MAX_CPU_ISA, as the
// bench's --isa avx2 sets it to stand for an AVX2 CPU): then this code is held there too.
bool wideProducts() {
  static const bool wide = [] {
    if (!__builtin_cpu_supports("avx512f")) return false;
    std::string isa = std::getenv("ONEDNN_MAX_CPU_ISA") ? std::getenv("ONEDNN_MAX_CPU_ISA") : "";
    for (char& ch : isa) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return !(isa.rfind("SSE", 0) == 0 || isa == "AVX" || isa.rfind("AVX2", 0) == 0);
  }();
  return wide;
}
#endif

// c (+)= a b for a [rows, depth], b [depth, K] (row stride ldb) and c [rows, K] (row stride ldc).
template <bool Add>
void product(int64_t rows, int64_t depth, int64_t K, Strided a, const float* b, int64_t ldb, float* c, int64_t ldc) {
#if defined(__x86_64__)
  if (wideProducts()) return productWide<Add>(rows, depth, K, a, b, ldb, c, ldc);
#endif
  productIn<Lanes, Add>(rows, depth, K, a, b, ldb, c, ldc);
}

// The transposes of a matrix, so the adjoints use the same sandwich.
template <int R, int C>
struct Transposed {
  float t[C][R];
  constexpr explicit Transposed(const float (&m)[R][C]) : t{} {
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) t[c][r] = m[r][c];
  }
};

// Where tile p lies: its image and its row and column among the tiles.
struct Tile {
  int64_t n, row, col;
  Tile(const Geometry& g, int64_t p) {
    const int64_t rows = g.tilesH(), cols = g.tilesW();
    n = p / (rows * cols), row = p / cols % rows, col = p % cols;
  }
};

template <int M>
struct Kernels {
  static constexpr int A = M + 2, X = A * A;
  using Mx = Matrices<M>;

  // The adjoints' matrices.
  static constexpr Transposed<A, A> B{Mx::BT};
  static constexpr Transposed<M, A> Aa{Mx::AT};

  // Tiles per group for rows of c floats: the group's a·a planes fill kGroupBytes.
  static int64_t group(int64_t c) { return std::max<int64_t>(1, kGroupBytes / (X * c * sizeof(float))); }

  // Tiles per block of a fused pass, whose a·a rows of c and of k floats per tile fill kGroupBytes.
  static int64_t block(int64_t c, int64_t k) {
    return std::max<int64_t>(4, kGroupBytes / (X * (c + k) * sizeof(float)));
  }

  // Where tile (row, col)'s window lies in an image of rows × cols: from (row · m − top, col · m − left).
  struct Window {
    int64_t rows, cols, top, left;
    static Window input(const Geometry& g) { return {g.h, g.w, g.padTop, g.padLeft}; }
    static Window output(const Geometry& g) { return {g.outH, g.outW, 0, 0}; }
  };

  // write(dst, src) that adds the bias to a pixel's K values, and takes relu if asked.
  static auto biased(int64_t K, const float* bias, bool relu) {
    return [=](float* dst, const float* src) {
      if (relu)
        for (int64_t k = 0; k < K; ++k) dst[k] = std::max(src[k] + bias[k], 0.0f);
      else
        for (int64_t k = 0; k < K; ++k) dst[k] = src[k] + bias[k];
    };
  }

  // write(dst, src) that adds: the adjoints' tiles overlap.
  static auto added(int64_t C) {
    return [=](float* dst, const float* src) {
      for (int64_t k = 0; k < C; ++k) dst[k] += src[k];
    };
  }

  // planes[ξ, p, ·] = (L w_p Lᵀ)[ξ] for each tile p's S×S window w_p of `image` (zero outside it), c channels.
  template <int S>
  static void toPlanes(const Geometry& g, const Window& at, const float* image, int64_t c, const float (&L)[A][S],
                       float* planes) {
    const int64_t P = g.tiles(), G = group(c);
    parallel((P + G - 1) / G, [&](int64_t begin, int64_t end) {
      std::vector<float> window(S * S * c), buffer(X * G * c);
      for (int64_t p0 = begin * G; p0 < std::min(P, end * G); p0 += G) {
        const int64_t count = std::min(G, P - p0);
        for (int64_t q = 0; q < count; ++q) {
          gather<S>(g, at, image, c, p0 + q, window.data());
          sandwich<A, A, S>(L, L, window.data(), &buffer[q * X * c], c);
        }
        for (int xi = 0; xi < X; ++xi)
          for (int64_t q = 0; q < count; ++q) copy(planes + (xi * P + p0 + q) * c, &buffer[(q * X + xi) * c], c);
      }
    });
  }

  // Each tile p's S×S window of `image` from its a·a plane rows: write(dst, src) with dst the window's place in the
  // image where it lies inside, src (R planes_p Rᵀ)'s value there, c channels. Windows may overlap: each worker owns
  // whole images.
  template <int S, typename Write>
  static void fromPlanes(const Geometry& g, const Window& at, const float* planes, int64_t c, const float (&R)[S][A],
                         float* image, Write write) {
    const int64_t P = g.tiles(), G = group(c), perImage = g.tilesH() * g.tilesW();
    parallel(g.n, [&](int64_t nBegin, int64_t nEnd) {
      std::vector<float> window(S * S * c), buffer(X * G * c);
      for (int64_t p0 = nBegin * perImage; p0 < nEnd * perImage; p0 += G) {
        const int64_t count = std::min(G, nEnd * perImage - p0);
        for (int xi = 0; xi < X; ++xi)
          for (int64_t q = 0; q < count; ++q) copy(&buffer[(q * X + xi) * c], planes + (xi * P + p0 + q) * c, c);
        for (int64_t q = 0; q < count; ++q) {
          sandwich<S, S, A>(R, R, &buffer[q * X * c], window.data(), c);
          scatter<S>(g, at, window.data(), c, p0 + q, image, write);
        }
      }
    });
  }

  // Tile p's S×S window into `image` where it lies inside: write(dst, src) with dst its place there, c channels.
  template <int S, typename Write>
  static void scatter(const Geometry& g, const Window& at, const float* window, int64_t c, int64_t p, float* image,
                      Write write) {
    const Tile t(g, p);
    for (int r = 0; r < S; ++r)
      for (int s = 0; s < S; ++s) {
        const int64_t row = t.row * M - at.top + r, col = t.col * M - at.left + s;
        if (row < 0 || row >= at.rows || col < 0 || col >= at.cols) continue;
        write(image + ((t.n * at.rows + row) * at.cols + col) * c, &window[(r * S + s) * c]);
      }
  }

  // Tile p's S×S window of `image` (zero outside it) into window, c channels.
  template <int S>
  static void gather(const Geometry& g, const Window& at, const float* image, int64_t c, int64_t p, float* window) {
    const Tile t(g, p);
    for (int r = 0; r < S; ++r)
      for (int s = 0; s < S; ++s) {
        const int64_t row = t.row * M - at.top + r, col = t.col * M - at.left + s;
        float* dst = &window[(r * S + s) * c];
        if (row < 0 || row >= at.rows || col < 0 || col >= at.cols)
          std::fill(dst, dst + c, 0.0f);
        else
          copy(dst, image + ((t.n * at.rows + row) * at.cols + col) * c, c);
      }
  }

  // y = Aᵀ [u ⊙ (Bᵀ d B)] A (+ bias, relu) for each tile d of x, a block of tiles at a time: the block's transformed
  // input and products (a·a rows of c and of k floats per tile) stay in the cache between the three steps.
  static void conv(const Geometry& g, const float* x, const float* u, const float* bias, bool relu, float* y) {
    const int64_t C = g.c, K = g.k, perImage = g.tilesH() * g.tilesW(), Q = block(C, K);
    const Window in = Window::input(g), out = Window::output(g);
    const auto write = biased(K, bias, relu);
    parallel(g.n, [&](int64_t nBegin, int64_t nEnd) {
      std::vector<float> window(A * A * C), v(Q * X * C), products(Q * X * K), tile(M * M * K);
      for (int64_t p0 = nBegin * perImage; p0 < nEnd * perImage; p0 += Q) {
        const int64_t count = std::min(Q, nEnd * perImage - p0);
        for (int64_t q = 0; q < count; ++q) {
          gather<A>(g, in, x, C, p0 + q, window.data());
          sandwich<A, A, A>(Mx::BT, Mx::BT, window.data(), &v[q * X * C], C);
        }
        for (int xi = 0; xi < X; ++xi)
          product<false>(count, C, K, {&v[xi * C], X * C, 1}, u + xi * C * K, K, &products[xi * K], X * K);
        for (int64_t q = 0; q < count; ++q) {
          sandwich<M, M, A>(Mx::AT, Mx::AT, &products[q * X * K], tile.data(), K);
          scatter<M>(g, out, tile.data(), K, p0 + q, y, write);
        }
      }
    });
  }

  // dx = Σ_p B [(A dy_p Aᵀ) uᵀ] Bᵀ added at each tile's place, with ut [a·a, K, C] the transformed filter
  // transposed: the input's gradient of `conv`, a block of tiles at a time; each worker owns whole images, whose
  // windows overlap.
  static void convInputGrad(const Geometry& g, const float* dy, const float* ut, float* dx) {
    const int64_t C = g.c, K = g.k, perImage = g.tilesH() * g.tilesW(), Q = block(C, K);
    const Window in = Window::input(g), out = Window::output(g);
    parallel(g.n, [&](int64_t nBegin, int64_t nEnd) {
      std::fill(dx + nBegin * g.h * g.w * C, dx + nEnd * g.h * g.w * C, 0.0f);
      std::vector<float> window(A * A * std::max(C, K)), dm(Q * X * K), dv(Q * X * C);
      for (int64_t p0 = nBegin * perImage; p0 < nEnd * perImage; p0 += Q) {
        const int64_t count = std::min(Q, nEnd * perImage - p0);
        for (int64_t q = 0; q < count; ++q) {
          gather<M>(g, out, dy, K, p0 + q, window.data());
          sandwich<A, A, M>(Aa.t, Aa.t, window.data(), &dm[q * X * K], K);
        }
        for (int xi = 0; xi < X; ++xi)
          product<false>(count, K, C, {&dm[xi * K], X * K, 1}, ut + xi * K * C, C, &dv[xi * C], X * C);
        for (int64_t q = 0; q < count; ++q) {
          sandwich<A, A, A>(B.t, B.t, &dv[q * X * C], window.data(), C);
          scatter<A>(g, in, window.data(), C, p0 + q, dx, added(C));
        }
      }
    });
  }

  // du[ξ] = Σ_p (Bᵀ x_p B)[ξ]ᵀ (A dy_p Aᵀ)[ξ], [a·a, C, K]: the filter's gradient of `conv` before the filter
  // transform's adjoint, a block of tiles at a time; each worker sums its own, added together at the end.
  static void convFilterGrad(const Geometry& g, const float* x, const float* dy, float* du) {
    const int64_t C = g.c, K = g.k, P = g.tiles(), Q = block(C, K);
    const Window in = Window::input(g), out = Window::output(g);
    std::fill(du, du + X * C * K, 0.0f);
    std::mutex adding;
    parallel((P + Q - 1) / Q, [&](int64_t begin, int64_t end) {
      std::vector<float> window(A * A * std::max(C, K)), v(Q * X * C), dm(Q * X * K), sum(X * C * K, 0.0f);
      for (int64_t p0 = begin * Q; p0 < std::min(P, end * Q); p0 += Q) {
        const int64_t count = std::min(Q, P - p0);
        for (int64_t q = 0; q < count; ++q) {
          gather<A>(g, in, x, C, p0 + q, window.data());
          sandwich<A, A, A>(Mx::BT, Mx::BT, window.data(), &v[q * X * C], C);
          gather<M>(g, out, dy, K, p0 + q, window.data());
          sandwich<A, A, M>(Aa.t, Aa.t, window.data(), &dm[q * X * K], K);
        }
        for (int xi = 0; xi < X; ++xi)
          product<true>(C, count, K, {&v[xi * C], 1, X * C}, &dm[xi * K], X * K, &sum[xi * C * K], K);
      }
      const std::lock_guard<std::mutex> lock(adding);
      for (int64_t i = 0; i < X * C * K; ++i) du[i] += sum[i];
    });
  }

  // v = Bᵀ d B for each a×a input tile d.
  static void input(const Geometry& g, const float* x, float* v) {
    toPlanes<A>(g, Window::input(g), x, g.c, Mx::BT, v);
  }

  // dx = Σ_p B dv_p Bᵀ added at each tile's place: the adjoint of `input`.
  static void inputGrad(const Geometry& g, const float* dv, float* dx) {
    std::fill(dx, dx + g.n * g.h * g.w * g.c, 0.0f);
    fromPlanes<A>(g, Window::input(g), dv, g.c, B.t, dx, added(g.c));
  }

  // y = Aᵀ m_p A (+ bias, relu) for each tile, written where it falls inside the output.
  static void output(const Geometry& g, const float* mt, const float* bias, bool relu, float* y) {
    fromPlanes<M>(g, Window::output(g), mt, g.k, Mx::AT, y, biased(g.k, bias, relu));
  }

  // dm_p = A dy_p Aᵀ, with dy zero outside the output: the adjoint of `output` (without bias and relu).
  static void outputGrad(const Geometry& g, const float* dy, float* dm) {
    toPlanes<M>(g, Window::output(g), dy, g.k, Aa.t, dm);
  }
};

// ---- TensorFlow op plumbing ----

enum class Which { kInput, kInputGrad, kOutput, kOutputGrad, kConv, kConvInputGrad, kConvFilterGrad };

struct Op {
  Which which;
  int tile, padTop, padLeft, outH, outW, inH, inW, batch;
  bool relu;
};

struct Registered {
  const char* name;
  const char* inputs[3];
  const char* attrs[8];
};

// Every op takes `tile` (2 or 4) and the geometry it cannot read from its inputs.
const Registered kOps[] = {
    {"DeepConvWinogradInput", {"x: float"}, {"tile: int", "pad_top: int", "pad_left: int", "out_h: int", "out_w: int"}},
    {"DeepConvWinogradInputGrad",
     {"dv: float"},
     {"tile: int", "pad_top: int", "pad_left: int", "out_h: int", "out_w: int", "in_h: int", "in_w: int", "batch: int"}},
    {"DeepConvWinogradOutput", {"m: float", "bias: float"}, {"tile: int", "out_h: int", "out_w: int", "batch: int", "relu: bool"}},
    {"DeepConvWinogradOutputGrad", {"dy: float"}, {"tile: int"}},
    {"DeepConvWinogradConv",
     {"x: float", "u: float", "bias: float"},
     {"tile: int", "pad_top: int", "pad_left: int", "out_h: int", "out_w: int", "relu: bool"}},
    {"DeepConvWinogradConvInputGrad",
     {"dy: float", "ut: float"},
     {"tile: int", "pad_top: int", "pad_left: int", "in_h: int", "in_w: int"}},
    {"DeepConvWinogradConvFilterGrad", {"x: float", "dy: float"}, {"tile: int", "pad_top: int", "pad_left: int"}},
};

int attrOr(TF_OpKernelConstruction* ctx, const char* name, int fallback) {
  TF_Status* status = TF_NewStatus();
  int32_t value = fallback;
  TF_OpKernelConstruction_GetAttrInt32(ctx, name, &value, status);
  const bool ok = TF_GetCode(status) == TF_OK;
  TF_DeleteStatus(status);
  return ok ? value : fallback;
}

template <Which W>
void* create(TF_OpKernelConstruction* ctx) {
  auto* op = new Op{W, attrOr(ctx, "tile", 0), attrOr(ctx, "pad_top", 0), attrOr(ctx, "pad_left", 0), attrOr(ctx, "out_h", 0),
                    attrOr(ctx, "out_w", 0), attrOr(ctx, "in_h", 0), attrOr(ctx, "in_w", 0), attrOr(ctx, "batch", 0), false};
  if (W == Which::kOutput || W == Which::kConv) {
    TF_Status* status = TF_NewStatus();
    TF_Bool relu = 0;
    TF_OpKernelConstruction_GetAttrBool(ctx, "relu", &relu, status);
    op->relu = relu != 0;
    TF_DeleteStatus(status);
  }
  if (op->tile != 2 && op->tile != 4) {
    TF_Status* status = TF_NewStatus();
    TF_SetStatus(status, TF_INVALID_ARGUMENT, "tile must be 2 or 4");
    TF_OpKernelConstruction_Failure(ctx, status);
    TF_DeleteStatus(status);
  }
  return op;
}

void destroy(void* op) { delete static_cast<Op*>(op); }

template <int M>
void dispatch(const Op& op, const Geometry& g, const float* in, const float* u, const float* bias, float* out) {
  switch (op.which) {
    case Which::kConv: return Kernels<M>::conv(g, in, u, bias, op.relu, out);
    case Which::kConvInputGrad: return Kernels<M>::convInputGrad(g, in, u, out);
    case Which::kConvFilterGrad: return Kernels<M>::convFilterGrad(g, in, u, out);
    case Which::kInput: return Kernels<M>::input(g, in, out);
    case Which::kInputGrad: return Kernels<M>::inputGrad(g, in, out);
    case Which::kOutput: return Kernels<M>::output(g, in, bias, op.relu, out);
    case Which::kOutputGrad: return Kernels<M>::outputGrad(g, in, out);
  }
}

void compute(void* kernel, TF_OpKernelContext* ctx) {
  const Op& op = *static_cast<Op*>(kernel);
  TF_Status* status = TF_NewStatus();
  TF_Tensor* in = nullptr;
  TF_Tensor* u = nullptr;
  TF_Tensor* bias = nullptr;
  TF_Tensor* out = nullptr;
  TF_GetInput(ctx, 0, &in, status);
  if (TF_GetCode(status) == TF_OK && op.which == Which::kOutput) TF_GetInput(ctx, 1, &bias, status);
  if (TF_GetCode(status) == TF_OK &&
      (op.which == Which::kConv || op.which == Which::kConvInputGrad || op.which == Which::kConvFilterGrad))
    TF_GetInput(ctx, 1, &u, status);
  if (TF_GetCode(status) == TF_OK && op.which == Which::kConv) TF_GetInput(ctx, 2, &bias, status);
  if (TF_GetCode(status) == TF_OK) {
    const int64_t m = op.tile, a = m + 2;
    Geometry g{};
    g.m = m;
    std::vector<int64_t> dims;
    if (op.which == Which::kConv) {
      // x [N, H, W, C] and u [a·a, C, K] in; y [N, outH, outW, K] out
      g.n = TF_Dim(in, 0), g.h = TF_Dim(in, 1), g.w = TF_Dim(in, 2), g.c = TF_Dim(in, 3), g.k = TF_Dim(u, 2);
      g.outH = op.outH, g.outW = op.outW, g.padTop = op.padTop, g.padLeft = op.padLeft;
      if (TF_Dim(u, 0) != a * a || TF_Dim(u, 1) != g.c)
        TF_SetStatus(status, TF_INVALID_ARGUMENT, "the transformed filter's shape does not match the input");
      if (TF_Dim(bias, 0) != g.k) TF_SetStatus(status, TF_INVALID_ARGUMENT, "bias length differs from channels");
      dims = {g.n, g.outH, g.outW, g.k};
    } else if (op.which == Which::kConvFilterGrad) {
      // x [N, H, W, C] and dy [N, outH, outW, K] in; du [a·a, C, K] out
      g.n = TF_Dim(in, 0), g.h = TF_Dim(in, 1), g.w = TF_Dim(in, 2), g.c = TF_Dim(in, 3);
      g.outH = TF_Dim(u, 1), g.outW = TF_Dim(u, 2), g.k = TF_Dim(u, 3), g.padTop = op.padTop, g.padLeft = op.padLeft;
      if (TF_Dim(u, 0) != g.n) TF_SetStatus(status, TF_INVALID_ARGUMENT, "x and dy hold different batches");
      dims = {a * a, g.c, g.k};
    } else if (op.which == Which::kConvInputGrad) {
      // dy [N, outH, outW, K] and ut [a·a, K, C] in; dx [N, inH, inW, C] out
      g.n = TF_Dim(in, 0), g.outH = TF_Dim(in, 1), g.outW = TF_Dim(in, 2), g.k = TF_Dim(in, 3), g.c = TF_Dim(u, 2);
      g.h = op.inH, g.w = op.inW, g.padTop = op.padTop, g.padLeft = op.padLeft;
      if (TF_Dim(u, 0) != a * a || TF_Dim(u, 1) != g.k)
        TF_SetStatus(status, TF_INVALID_ARGUMENT, "the transformed filter's shape does not match the gradient");
      dims = {g.n, g.h, g.w, g.c};
    } else if (op.which == Which::kInput || op.which == Which::kOutputGrad) {
      // [N, rows, cols, channels] in; the tiled transform out
      g.n = TF_Dim(in, 0);
      const int64_t rows = TF_Dim(in, 1), cols = TF_Dim(in, 2), channels = TF_Dim(in, 3);
      if (op.which == Which::kInput) {
        g.h = rows, g.w = cols, g.c = channels, g.outH = op.outH, g.outW = op.outW;
        g.padTop = op.padTop, g.padLeft = op.padLeft;
      } else {
        g.outH = rows, g.outW = cols, g.k = channels;
      }
      dims = {a * a, g.tiles(), channels};
    } else {
      // the tiled transform [a·a, P, channels] in; an image out
      g.n = op.batch, g.outH = op.outH, g.outW = op.outW;
      const int64_t channels = TF_Dim(in, 2);
      if (TF_Dim(in, 0) != a * a || TF_Dim(in, 1) != g.tiles())
        TF_SetStatus(status, TF_INVALID_ARGUMENT, "the transformed tensor's shape does not match the attributes");
      if (op.which == Which::kInputGrad) {
        g.h = op.inH, g.w = op.inW, g.c = channels, g.padTop = op.padTop, g.padLeft = op.padLeft;
        dims = {g.n, g.h, g.w, g.c};
      } else {
        g.k = channels;
        if (TF_Dim(bias, 0) != channels) TF_SetStatus(status, TF_INVALID_ARGUMENT, "bias length differs from channels");
        dims = {g.n, g.outH, g.outW, g.k};
      }
    }
    if (TF_GetCode(status) == TF_OK) {
      int64_t size = 1;
      for (int64_t d : dims) size *= d;
      out = TF_AllocateOutput(ctx, 0, TF_FLOAT, dims.data(), static_cast<int>(dims.size()), size * sizeof(float), status);
    }
    if (TF_GetCode(status) == TF_OK) {
      const auto* src = static_cast<const float*>(TF_TensorData(in));
      const auto* filter = u ? static_cast<const float*>(TF_TensorData(u)) : nullptr;
      const auto* b = bias ? static_cast<const float*>(TF_TensorData(bias)) : nullptr;
      auto* dst = static_cast<float*>(TF_TensorData(out));
      if (m == 2)
        dispatch<2>(op, g, src, filter, b, dst);
      else
        dispatch<4>(op, g, src, filter, b, dst);
    }
  }
  if (TF_GetCode(status) != TF_OK) TF_OpKernelContext_Failure(ctx, status);
  if (in) TF_DeleteTensor(in);
  if (u) TF_DeleteTensor(u);
  if (bias) TF_DeleteTensor(bias);
  if (out) TF_DeleteTensor(out);
  TF_DeleteStatus(status);
}

// Shapes are known when the op runs; a graph needs none before.
void unknownShape(TF_ShapeInferenceContext* ctx, TF_Status* status) { TF_ShapeInferenceContextSetUnknownShape(ctx, status); }

template <Which W>
bool registerOp(const Registered& spec, TF_Status* status) {
  TF_OpDefinitionBuilder* builder = TF_NewOpDefinitionBuilder(spec.name);
  for (const char* input : spec.inputs)
    if (input) TF_OpDefinitionBuilderAddInput(builder, input);
  TF_OpDefinitionBuilderAddOutput(builder, "out: float");
  for (const char* attr : spec.attrs)
    if (attr) TF_OpDefinitionBuilderAddAttr(builder, attr);
  TF_OpDefinitionBuilderSetShapeInferenceFunction(builder, &unknownShape);
  TF_RegisterOpDefinition(builder, status);
  if (TF_GetCode(status) != TF_OK) return false;
  TF_KernelBuilder* kernel = TF_NewKernelBuilder(spec.name, "CPU", &create<W>, &compute, &destroy);
  TF_RegisterKernelBuilder(spec.name, kernel, status);
  return TF_GetCode(status) == TF_OK;
}

// Empty once the ops are registered, else the reason they are not.
std::string registerAll() {
#if defined(__AVX2__) && defined(__x86_64__)
  // set-up compiles for the CPU it runs on; a copied build may meet an older one
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    return "it was compiled for AVX2 and this CPU has none: run `npm run setup` to compile it again";
#endif
  TF_Status* status = TF_NewStatus();
  const bool ok = registerOp<Which::kInput>(kOps[0], status) && registerOp<Which::kInputGrad>(kOps[1], status) &&
                  registerOp<Which::kOutput>(kOps[2], status) && registerOp<Which::kOutputGrad>(kOps[3], status) &&
                  registerOp<Which::kConv>(kOps[4], status) && registerOp<Which::kConvInputGrad>(kOps[5], status) &&
                  registerOp<Which::kConvFilterGrad>(kOps[6], status);
  std::string result = ok ? "" : TF_Message(status);
  TF_DeleteStatus(status);
  return result;
}

}  // namespace

// The addon's exports: `error`, empty when the ops are registered.
NAPI_MODULE_INIT() {
  static const std::string error = registerAll();
  napi_value message;
  napi_create_string_utf8(env, error.c_str(), error.size(), &message);
  napi_set_named_property(env, exports, "error", message);
  return exports;
}
