import CKernels

/// 3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray 2016): each 2×2 output
/// tile takes 16 multiplies per channel pair instead of 36. The kernel is transformed once (`U = G g Gᵀ`);
/// per chunk of tiles the input is transformed (`V = Bᵀ d B`), the 16 transform positions become 16 sgemms
/// `[tiles × Cin] · [Cin × Cout]`, and the output is transformed back (`Y = Aᵀ M A`) with the bias and a
/// clamp activation; the transforms are SIMD kernels in CKernels.
struct WinogradKernel: Sendable {
    let inputChannels: Int
    let outputChannels: Int
    /// `U`: 16 matrices `[Cin, Cout]`, position-major.
    let transformed: [Float]

    /// Transforms HWIO 3×3 weights.
    init(weights: [Float], inputChannels: Int, outputChannels: Int) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        let size = inputChannels * outputChannels
        var u = [Float](repeating: 0, count: 16 * size)
        for pair in 0..<size {
            // g[r][c] for this (input, output) pair: HWIO index ((r·3 + c)·Cin + i)·Cout + o = (r·3 + c)·size + pair.
            var g = [[Float]](repeating: [0, 0, 0], count: 3)
            for r in 0..<3 { for c in 0..<3 { g[r][c] = weights[(r * 3 + c) * size + pair] } }
            // G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]; rows first, then columns.
            let rows: [[Float]] = (0..<3).map { c in [g[0][c], (g[0][c] + g[1][c] + g[2][c]) / 2, (g[0][c] - g[1][c] + g[2][c]) / 2, g[2][c]] }
            for i in 0..<4 {
                let column = [rows[0][i], rows[1][i], rows[2][i]]
                let values = [column[0], (column[0] + column[1] + column[2]) / 2, (column[0] - column[1] + column[2]) / 2, column[2]]
                for j in 0..<4 { u[(i * 4 + j) * size + pair] = values[j] }
            }
        }
        transformed = u
    }

    /// Tiles per chunk: enough rows for an efficient sgemm, few enough that the 16 transformed blocks stay in cache.
    static let chunkTiles = 256

    /// Convolves NHWC `input` into `output` with `bias`, clamped to [low, high], padding as `g` says.
    func run(input: SharedReadPointer<Float>, output: SharedPointer<Float>, batch: Int, geometry g: WindowGeometry,
             bias: SharedReadPointer<Float>, low: Float, high: Float) {
        _ = GEMM.configure
        let tiles = batch * ((g.outputHeight + 1) / 2) * ((g.outputWidth + 1) / 2)
        let chunks = (tiles + Self.chunkTiles - 1) / Self.chunkTiles
        let workers = min(Parallel.threadCount, chunks)
        let cin = inputChannels, cout = outputChannels
        var shape = g.kernelShape(inputChannels: cin, outputChannels: cout)
        transformed.withUnsafeBufferPointer { u in
            withUnsafePointer(to: &shape) { shapePointer in
                let kernel = SharedReadPointer(u.baseAddress!), shape = SharedReadPointer(shapePointer)
                Parallel.forEach(workers) { worker in
                    let v = UnsafeMutablePointer<Float>.allocate(capacity: 16 * Self.chunkTiles * cin)
                    let m = UnsafeMutablePointer<Float>.allocate(capacity: 16 * Self.chunkTiles * cout)
                    defer { v.deallocate(); m.deallocate() }
                    var chunk = worker
                    while chunk < chunks {
                        let first = chunk * Self.chunkTiles, count = min(Self.chunkTiles, tiles - first)
                        an_winograd_input(shape.base, input.base, Int32(first), Int32(count), v, Self.chunkTiles * cin)
                        for position in 0..<16 {
                            GEMM.serial(m: count, n: cout, k: cin, a: v + position * Self.chunkTiles * cin, lda: cin,
                                        b: kernel.base + position * cin * cout, ldb: cout,
                                        c: m + position * Self.chunkTiles * cout, ldc: cout)
                        }
                        an_winograd_output(shape.base, m, Self.chunkTiles * cout, Int32(first), Int32(count), bias.base, low, high,
                                           output.base)
                        chunk += workers
                    }
                }
            }
        }
    }
}
