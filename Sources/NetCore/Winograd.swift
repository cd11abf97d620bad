import CKernels

/// 3×3 stride-1 convolution by Winograd's minimal filtering F(4×4, 3×3) (Lavin & Gray 2016): 36 multiplies per
/// 4×4 output tile and channel pair instead of 144. The kernel is transformed once (`U = G g Gᵀ`); per chunk of
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
    let transformed: [Float]
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
        let g = Self.filterTransform, side = Self.tile + 2
        let size = inputChannels * outputChannels
        var u = [Float](repeating: 0, count: side * side * size)
        for pair in 0..<size {
            // The 3×3 filter of this (input, output) pair: HWIO index (r·3 + c)·size + pair.
            let filter = (0..<3).map { r in (0..<3).map { c in Double(weights[(r * 3 + c) * size + pair]) } }
            let left = (0..<side).map { i in (0..<3).map { c in (0..<3).reduce(0.0) { $0 + g[i][$1] * filter[$1][c] } } }  // G g
            for i in 0..<side {
                for j in 0..<side {
                    u[(i * side + j) * size + pair] = Float((0..<3).reduce(0.0) { $0 + left[i][$1] * g[j][$1] })  // (G g) Gᵀ
                }
            }
        }
        packed = an_packed_gemm_has_body() != 0
        guard packed else {
            (transformed, positionStride) = (u, size)
            return
        }
        let stride = an_packed_size(Int32(inputChannels), Int32(outputChannels))
        transformed = u.withUnsafeBufferPointer { plain in
            [Float](unsafeUninitializedCapacity: side * side * stride) { buffer, count in
                for position in 0..<side * side {
                    an_pack_panels(plain.baseAddress! + position * size, Int32(inputChannels), Int32(outputChannels),
                                   buffer.baseAddress! + position * stride)
                }
                count = buffer.count
            }
        }
        positionStride = stride
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
        _ = GEMM.configure
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
