/// 3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray 2016): each 2×2 output
/// tile takes 16 multiplies per channel pair instead of 36. The kernel is transformed once (`U = G g Gᵀ`);
/// per chunk of tiles the input is transformed (`V = Bᵀ d B`), the 16 transform positions become 16 sgemms
/// `[tiles × Cin] · [Cin × Cout]`, and the output is transformed back (`Y = Aᵀ M A`).
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

    /// Convolves NHWC `input` into `output` (raw sums, no bias), padding as `g` says.
    func run(input: SharedReadPointer<Float>, output: SharedPointer<Float>, batch: Int, geometry g: WindowGeometry) {
        _ = GEMM.configure
        let tilesY = (g.outputHeight + 1) / 2, tilesX = (g.outputWidth + 1) / 2
        let tiles = batch * tilesY * tilesX
        let chunks = (tiles + Self.chunkTiles - 1) / Self.chunkTiles
        let workers = min(Parallel.threadCount, chunks)
        let cin = inputChannels, cout = outputChannels
        transformed.withUnsafeBufferPointer { u in
            let kernel = SharedReadPointer(u.baseAddress!)
            Parallel.forEach(workers) { worker in
                let v = UnsafeMutablePointer<Float>.allocate(capacity: 16 * Self.chunkTiles * cin)
                let m = UnsafeMutablePointer<Float>.allocate(capacity: 16 * Self.chunkTiles * cout)
                let patch = UnsafeMutablePointer<Float>.allocate(capacity: 16 * cin)
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 16 * cin)
                defer { v.deallocate(); m.deallocate(); patch.deallocate(); scratch.deallocate() }
                var chunk = worker
                while chunk < chunks {
                    let first = chunk * Self.chunkTiles, count = min(Self.chunkTiles, tiles - first)
                    for local in 0..<count {
                        let (image, y0, x0) = origin(first + local, tilesY: tilesY, tilesX: tilesX)
                        gather(input.base, into: patch, image: image, y0: y0 - g.padTop, x0: x0 - g.padLeft, geometry: g)
                        transformInput(patch, scratch: scratch, into: v, tile: local, stride: Self.chunkTiles * cin)
                    }
                    for position in 0..<16 {
                        GEMM.serial(m: count, n: cout, k: cin, a: v + position * Self.chunkTiles * cin, lda: cin,
                                    b: kernel.base + position * cin * cout, ldb: cout,
                                    c: m + position * Self.chunkTiles * cout, ldc: cout)
                    }
                    for local in 0..<count {
                        let (image, y0, x0) = origin(first + local, tilesY: tilesY, tilesX: tilesX)
                        transformOutput(m, tile: local, stride: Self.chunkTiles * cout, into: output.base, image: image, y0: y0, x0: x0,
                                        geometry: g)
                    }
                    chunk += workers
                }
            }
        }
    }

    /// Image and top-left output pixel of tile `index`.
    @inline(__always)
    func origin(_ index: Int, tilesY: Int, tilesX: Int) -> (Int, Int, Int) {
        let image = index / (tilesY * tilesX), rest = index % (tilesY * tilesX)
        return (image, (rest / tilesX) * 2, (rest % tilesX) * 2)
    }

    /// The 4×4×Cin input patch whose top-left input pixel is (y0, x0), zeros outside the image.
    func gather(_ input: UnsafePointer<Float>, into patch: UnsafeMutablePointer<Float>, image: Int, y0: Int, x0: Int,
                geometry g: WindowGeometry) {
        let cin = inputChannels
        for r in 0..<4 {
            let y = y0 + r
            for c in 0..<4 {
                let x = x0 + c, target = patch + (r * 4 + c) * cin
                if y >= 0 && y < g.inputHeight && x >= 0 && x < g.inputWidth {
                    target.update(from: input + ((image * g.inputHeight + y) * g.inputWidth + x) * cin, count: cin)
                } else {
                    target.update(repeating: 0, count: cin)
                }
            }
        }
    }

    /// `V = Bᵀ d B` with Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]], vectorized over channels.
    func transformInput(_ d: UnsafeMutablePointer<Float>, scratch t: UnsafeMutablePointer<Float>, into v: UnsafeMutablePointer<Float>,
                        tile: Int, stride: Int) {
        let cin = inputChannels
        for c in 0..<4 {
            let d0 = d + c * cin, d1 = d + (4 + c) * cin, d2 = d + (8 + c) * cin, d3 = d + (12 + c) * cin
            let t0 = t + c * cin, t1 = t + (4 + c) * cin, t2 = t + (8 + c) * cin, t3 = t + (12 + c) * cin
            for k in 0..<cin {
                t0[k] = d0[k] - d2[k]; t1[k] = d1[k] + d2[k]; t2[k] = d2[k] - d1[k]; t3[k] = d1[k] - d3[k]
            }
        }
        for r in 0..<4 {
            let a = t + (r * 4) * cin, b = t + (r * 4 + 1) * cin, c = t + (r * 4 + 2) * cin, e = t + (r * 4 + 3) * cin
            let v0 = v + (r * 4) * stride + tile * cin, v1 = v + (r * 4 + 1) * stride + tile * cin
            let v2 = v + (r * 4 + 2) * stride + tile * cin, v3 = v + (r * 4 + 3) * stride + tile * cin
            for k in 0..<cin {
                v0[k] = a[k] - c[k]; v1[k] = b[k] + c[k]; v2[k] = c[k] - b[k]; v3[k] = b[k] - e[k]
            }
        }
    }

    /// `Y = Aᵀ M A` with Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]], written where the 2×2 tile lies inside the output.
    func transformOutput(_ m: UnsafeMutablePointer<Float>, tile: Int, stride: Int, into output: UnsafeMutablePointer<Float>,
                         image: Int, y0: Int, x0: Int, geometry g: WindowGeometry) {
        let cout = outputChannels
        let base = m + tile * cout
        @inline(__always) func at(_ position: Int, _ k: Int) -> Float { base[position * stride + k] }
        let pixel = { (dy: Int, dx: Int) in output + ((image * g.outputHeight + y0 + dy) * g.outputWidth + x0 + dx) * cout }
        let down = y0 + 1 < g.outputHeight, right = x0 + 1 < g.outputWidth
        let p00 = pixel(0, 0), p01 = pixel(0, right ? 1 : 0), p10 = pixel(down ? 1 : 0, 0), p11 = pixel(down ? 1 : 0, right ? 1 : 0)
        for k in 0..<cout {
            // Rows of Aᵀ M, then columns of (Aᵀ M) A.
            let r00 = at(0, k) + at(4, k) + at(8, k), r01 = at(1, k) + at(5, k) + at(9, k)
            let r02 = at(2, k) + at(6, k) + at(10, k), r03 = at(3, k) + at(7, k) + at(11, k)
            let r10 = at(4, k) - at(8, k) - at(12, k), r11 = at(5, k) - at(9, k) - at(13, k)
            let r12 = at(6, k) - at(10, k) - at(14, k), r13 = at(7, k) - at(11, k) - at(15, k)
            // Out-of-range pixels of edge tiles are written first, then overwritten by the in-range value.
            p11[k] = r11 - r12 - r13
            p10[k] = r10 + r11 + r12
            p01[k] = r01 - r02 - r03
            p00[k] = r00 + r01 + r02
        }
    }
}
