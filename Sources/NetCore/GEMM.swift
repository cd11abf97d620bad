import CBLAS
import Foundation

/// Matrix products on OpenBLAS sgemm, split across cores by AudioNet itself.
///
/// Threading policy: OpenBLAS runs single-threaded (set as the program loads: CBase's `an_openblas_one_thread`) and AudioNet splits every product (and the im2col,
/// pooling and element-wise loops around it) over ``Parallel/threadCount`` workers. One owner of the
/// threads means no oversubscription when a split loop calls sgemm, and the same split serves a batch
/// of one (rows of one image) and a batch of many.
public enum GEMM {
    /// The name of the kernels OpenBLAS runs.
    public static var kernels: String { String(cString: openblas_get_corename()) }

    /// The threads OpenBLAS itself runs a product on: one, set as the program loads.
    public static var openBLASThreads: Int { Int(openblas_get_num_threads()) }

    /// Runs this program again with `OPENBLAS_CORETYPE` set (``CPU/openBLASKernels``) when OpenBLAS fell back to its
    /// generic x86-64 kernels (Prescott: what it does on a processor newer than its build knows) where AVX2 or
    /// AVX-512 kernels can run; OpenBLAS reads the variable only as it loads. For programs, first thing in `main`
    /// (the command, the benchmarks); a program that cannot start again sets the variable before it starts.
    public static func restartWithTheKernelsThisProcessorAllows() {
        guard kernels == "Prescott", let allowed = CPU.openBLASKernels, getenv("OPENBLAS_CORETYPE") == nil else { return }
        setenv("OPENBLAS_CORETYPE", allowed, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)  // returns only if it failed: go on with the generic kernels
    }

    /// `C[m×n] = A[m×k] · B[k×n] + beta·C`, row-major with leading dimensions, on the calling thread.
    @inline(__always)
    public static func serial(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                              c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float = 0) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda),
                    b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `C[m×n] = op(A) · op(B) + beta·C` with either operand read transposed (`op(A)` is `m×k`, `op(B)` is `k×n`;
    /// leading dimensions are those of the stored matrices), on the calling thread: the products of a backward pass.
    public static func serial(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
                              b: UnsafePointer<Float>, ldb: Int, transposeB: Bool, c: UnsafeMutablePointer<Float>, ldc: Int,
                              beta: Float = 0) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The same product split over the cores: by columns when `b` is the larger operand (few rows against many
    /// weights: each core then streams only its share of them), else by rows.
    public static func parallel(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float = 0) {
        let workers = Parallel.threadCount
        if workers == 1 || Double(m) * Double(n) * Double(k) < 1e6 {
            serial(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, beta: beta)
            return
        }
        let sa = SharedReadPointer(a), sb = SharedReadPointer(b), sc = SharedPointer(c)
        if m >= 8 * workers && (m >= n || n < 16 * workers) {
            Parallel.forEachShare(of: m) { rows in
                serial(m: rows.count, n: n, k: k, a: sa.base + rows.lowerBound * lda, lda: lda, b: sb.base, ldb: ldb,
                       c: sc.base + rows.lowerBound * ldc, ldc: ldc, beta: beta)
            }
        } else {
            Parallel.forEachShare(of: n, granule: 16) { columns in
                serial(m: m, n: columns.count, k: k, a: sa.base, lda: lda, b: sb.base + columns.lowerBound, ldb: ldb,
                       c: sc.base + columns.lowerBound, ldc: ldc, beta: beta)
            }
        }
    }
}
