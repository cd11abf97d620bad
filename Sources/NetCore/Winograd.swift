import CKernels

/// 3×3 stride-1 convolution by Winograd's minimal filtering F(4×4, 3×3) (Lavin & Gray 2016): 36 multiplies per
/// 4×4 output tile and channel pair instead of 144. The kernel is transformed at load (`U = G g Gᵀ`, again in place when the weights change); per chunk of
/// tiles the input is transformed (`V = Bᵀ d B`), each of the 36 transform positions becomes one sgemm
/// `[tiles × Cin] · [Cin × Cout]`, and the output is transformed back (`Y = Aᵀ M A`) with the bias and a clamp
/// activation; the transforms are SIMD kernels in CKernels. Against torchvision's networks the relative error
/// stays below 1e-5 (AlexNet 7.7e-6, the largest).
struct WinogradKernel: Sendable {
    let inputChannels: Int
    let outputChannels: Int
    /// `U`: one matrix `[Cin, Cout]` per transform position, position-major; where the processor has the packed
    /// product's SIMD body, each matrix is packed (``an_pack_panels``, `positionStride` floats apart) and the 36
    /// products run on it, else BLAS multiplies the plain matrices.
    private(set) var transformed: [Float]
    /// Whether `transformed` holds packed matrices.
    let packed: Bool
    /// Floats from one position's matrix to the next.
    let positionStride: Int

    /// Output tile side and transform positions.
    static let tile = 4, positions = 36

    /// `G` for the interpolation points 0, ±1, ±2 and ∞.
    static let filterTransform: [[Double]] = {
        let sixth = 1.0 / 6, twelfth = 1.0 / 12, twentyFourth = 1.0 / 24
        return [[0.25, 0, 0], [-sixth, -sixth, -sixth], [-sixth, sixth, -sixth],
                [twentyFourth, twelfth, sixth], [twentyFourth, -twelfth, sixth], [0, 0, 1]]
    }()

    /// Transforms HWIO 3×3 weights (in double precision).
    init(weights: [Float], inputChannels: Int, outputChannels: Int) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        packed = an_packed_gemm_has_body() != 0
        positionStride = packed ? an_packed_size(Int32(inputChannels), Int32(outputChannels)) : inputChannels * outputChannels
        transformed = [Float](repeating: 0, count: Self.positions * positionStride)
        transform(weights)
    }

    /// `Σₖₗ G[i][k] G[j][l]` for each position `(i, j)` and tap `(k, l)`.
    static let tapCoefficients: [[Double]] = (0..<positions).map { position in
        let side = tile + 2
        return (0..<9).map { tap in filterTransform[position / side][tap / 3] * filterTransform[position % side][tap % 3] }
    }

    /// Makes `U = G g Gᵀ` of HWIO `weights` again, in place (a fine-tuned layer's weights change at every step): for
    /// each input channel, each position is a combination of its nine taps' rows (HWIO: tap-major, then input, then
    /// output channel), summed in double precision and written where the product reads it (packed panels: 16 output
    /// channels of a row together); the cores each take a share of the input channels.
    mutating func transform(_ weights: [Float]) {
        let (cin, cout, size, stride, packed) = (inputChannels, outputChannels, inputChannels * outputChannels, positionStride, self.packed)
        weights.withUnsafeBufferPointer { w in
            transformed.withUnsafeMutableBufferPointer { out in
                let (source, target) = (SharedReadPointer(w.baseAddress!), SharedPointer(out.baseAddress!))
                Parallel.forEachShare(of: cin) { inputs in
                    withUnsafeTemporaryAllocation(of: Double.self, capacity: cout) { sums in
                        for input in inputs {
                            for (position, coefficients) in Self.tapCoefficients.enumerated() {
                                for o in 0..<cout { sums[o] = 0 }
                                for (tap, coefficient) in coefficients.enumerated() where coefficient != 0 {
                                    let taps = source.base + tap * size + input * cout
                                    for o in 0..<cout { sums[o] += coefficient * Double(taps[o]) }
                                }
                                if packed {  // panel o/16 holds `cin` rows of 16
                                    let row = target.base + position * stride + input * 16
                                    for o in 0..<cout { row[(o >> 4) * cin * 16 + (o & 15)] = Float(sums[o]) }
                                } else {
                                    let row = target.base + position * stride + input * cout
                                    for o in 0..<cout { row[o] = Float(sums[o]) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `m = v · U[position]` for `count` tiles, on the calling thread.
    func product(position: Int, count: Int, v: UnsafePointer<Float>, kernel: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>) {
        let cin = inputChannels, cout = outputChannels, u = kernel + position * positionStride
        if packed {
            an_packed_gemm(Int32(count), Int32(cout), Int32(cin), v, Int32(cin), u, nil, nil, -.infinity, .infinity, m, Int32(cout), 0,
                           an_packed_panels(Int32(cout)))
        } else {
            GEMM.serial(m: count, n: cout, k: cin, a: v, lda: cin, b: u, ldb: cout, c: m, ldc: cout)
        }
    }

    /// Tiles per chunk: enough rows for an efficient sgemm, few enough that the transformed blocks (about
    /// 2 MB) stay in cache.
    var chunkTiles: Int { min(256, max(16, (2 << 20) / (4 * Self.positions * max(inputChannels, outputChannels)))) }

    /// Convolves NHWC `input` into `output` with `bias`, clamped to [low, high], padding as `g` says.
    func run(input: SharedReadPointer<Float>, output: SharedPointer<Float>, batch: Int, geometry g: WindowGeometry,
             bias: SharedReadPointer<Float>, low: Float, high: Float) {
        let tile = Self.tile, positions = Self.positions
        let tiles = batch * ((g.outputHeight + tile - 1) / tile) * ((g.outputWidth + tile - 1) / tile)
        // At least one chunk per core when there are enough tiles (one image's 56×56 layer has only 196).
        let chunkTiles = min(self.chunkTiles, max(16, (tiles + Parallel.threadCount - 1) / Parallel.threadCount))
        let chunks = (tiles + chunkTiles - 1) / chunkTiles
        let workers = min(Parallel.threadCount, chunks)
        let cin = inputChannels, cout = outputChannels
        var shape = g.kernelShape(inputChannels: cin, outputChannels: cout)
        transformed.withUnsafeBufferPointer { u in
            withUnsafePointer(to: &shape) { shapePointer in
                let kernel = SharedReadPointer(u.baseAddress!), shape = SharedReadPointer(shapePointer)
                guard workers > 1 || Parallel.threadCount == 1 else {
                    runSplittingPositions(tiles: tiles, input: input, output: output, kernel: kernel, shape: shape, bias: bias,
                                          low: low, high: high)
                    return
                }
                Parallel.forEach(workers) { worker in
                    let v = UnsafeMutablePointer<Float>.allocate(capacity: positions * chunkTiles * cin)
                    let m = UnsafeMutablePointer<Float>.allocate(capacity: positions * chunkTiles * cout)
                    defer { v.deallocate(); m.deallocate() }
                    var chunk = worker
                    while chunk < chunks {
                        let first = chunk * chunkTiles, count = min(chunkTiles, tiles - first)
                        an_winograd_input(shape.base, input.base, Int32(first), Int32(count), v, chunkTiles * cin)
                        for position in 0..<positions {
                            product(position: position, count: count, v: v + position * chunkTiles * cin, kernel: kernel.base,
                                    m: m + position * chunkTiles * cout)
                        }
                        an_winograd_output(shape.base, m, chunkTiles * cout, Int32(first), Int32(count), bias.base, low, high,
                                           output.base)
                        chunk += workers
                    }
                }
            }
        }
    }

    /// One chunk of few tiles (a late layer of one image: 7×7 has 4) with the 36 products split over the cores:
    /// each streams its share of the transformed weights, which outweigh the tiles there.
    private func runSplittingPositions(tiles: Int, input: SharedReadPointer<Float>, output: SharedPointer<Float>,
                                       kernel: SharedReadPointer<Float>, shape: SharedReadPointer<AnWindowShape>,
                                       bias: SharedReadPointer<Float>, low: Float, high: Float) {
        let positions = Self.positions, cin = inputChannels, cout = outputChannels
        let v = UnsafeMutablePointer<Float>.allocate(capacity: positions * tiles * cin)
        let m = UnsafeMutablePointer<Float>.allocate(capacity: positions * tiles * cout)
        defer { v.deallocate(); m.deallocate() }
        an_winograd_input(shape.base, input.base, 0, Int32(tiles), v, tiles * cin)
        let sv = SharedReadPointer(UnsafePointer(v)), sm = SharedPointer(m)
        Parallel.forEachShare(of: positions) { share in
            for position in share {
                product(position: position, count: tiles, v: sv.base + position * tiles * cin, kernel: kernel.base,
                        m: sm.base + position * tiles * cout)
            }
        }
        an_winograd_output(shape.base, m, tiles * cout, 0, Int32(tiles), bias.base, low, high, output.base)
    }
}
