import CBLAS
import CFFTW
import Foundation

/// A tall 1-D convolution (a `k×1` kernel over a width-1 image, stride 1, one group) by FFT with overlap-save: the
/// padded input is cut into segments of `length` samples that overlap by `taps − 1`; each segment's channels are
/// transformed once, each frequency bin becomes one complex GEMM `[segments × Cin] · [Cin × Cout]` with the conjugated
/// kernel spectra, and each segment's first `length − taps + 1` outputs are transformed back. For CREPE's 64-tap
/// layers this is about 16 times fewer multiplies than the direct convolution.
final class FFTConvolution: @unchecked Sendable {
    /// Transform length and segments for a kernel of `taps` over a padded input `height` tall.
    struct Shape {
        let taps: Int, height: Int
        /// A power of two, the shorter of one segment for the whole padded input and two kernels' length (the GEMM
        /// work is the same either way; shorter transforms keep fewer kernel spectra: 68 MB for CREPE full's second
        /// layer instead of 135 MB).
        var length: Int { min(Self.powerOfTwo(atLeast: height + taps - 1), Self.powerOfTwo(atLeast: 2 * taps - 1)) }
        var bins: Int { length / 2 + 1 }
        /// Outputs each segment gives (the rest of its circular correlation wraps around).
        var segmentOutputs: Int { length - taps + 1 }
        func segments(outputHeight: Int) -> Int { (outputHeight + segmentOutputs - 1) / segmentOutputs }

        static func powerOfTwo(atLeast n: Int) -> Int { var p = 1; while p < n { p *= 2 }; return p }
    }

    let inputChannels: Int, outputChannels: Int, taps: Int
    let shape: Shape
    var length: Int { shape.length }
    var bins: Int { shape.bins }
    /// Conjugated kernel spectra `[bins, Cin, Cout]`, interleaved complex.
    private let spectra: [Float]

    private static let lock = NSLock()
    nonisolated(unsafe) private static var plans: [String: OpaquePointer] = [:]

    /// `weights` are HWIO `[taps, 1, Cin, Cout]`; `height` is the padded input height the layer sees.
    init(weights: [Float], taps: Int, inputChannels: Int, outputChannels: Int, height: Int) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.taps = taps
        shape = Shape(taps: taps, height: height)
        let length = shape.length
        let pairs = inputChannels * outputChannels, bins = length / 2 + 1
        var spectra = [Float](repeating: 0, count: 2 * bins * pairs)
        // Blocks of (input, output) pairs in parallel: gather each pair's taps into a contiguous zero-padded row,
        // transform the rows, and scatter the conjugated bins to [bins, pairs].
        let block = 256
        spectra.withUnsafeMutableBufferPointer { target in
            weights.withUnsafeBufferPointer { source in
                let w = SharedReadPointer(source.baseAddress!), out = SharedPointer(target.baseAddress!)
                Parallel.forEach((pairs + block - 1) / block) { index in
                    let first = index * block, count = min(block, pairs - first)
                    let plan = Self.plan(key: "w\(length)x\(count)", sizes: (length * count, bins * count)) { input, output in
                        var n = Int32(length)
                        return fftwf_plan_many_dft_r2c(1, &n, Int32(count), input, nil, 1, Int32(length), output, nil, 1, Int32(bins),
                                                       UInt32(FFTW_ESTIMATE | FFTW_UNALIGNED))
                    }
                    let rows = UnsafeMutablePointer<Float>.allocate(capacity: length * count)
                    let transformed = UnsafeMutablePointer<Float>.allocate(capacity: 2 * bins * count)
                    defer { rows.deallocate(); transformed.deallocate() }
                    rows.initialize(repeating: 0, count: length * count)
                    for tap in 0..<taps {
                        let row = w.base + tap * pairs + first
                        for pair in 0..<count { rows[pair * length + tap] = row[pair] }
                    }
                    transformed.withMemoryRebound(to: fftwf_complex.self, capacity: bins * count) {
                        fftwf_execute_dft_r2c(plan.plan, rows, $0)
                    }
                    // Cross-correlation is convolution with the conjugate spectrum.
                    for bin in 0..<bins {
                        let destination = out.base + 2 * (bin * pairs + first)
                        for pair in 0..<count {
                            destination[2 * pair] = transformed[2 * (pair * bins + bin)]
                            destination[2 * pair + 1] = -transformed[2 * (pair * bins + bin) + 1]
                        }
                    }
                }
            }
        }
        self.spectra = spectra
    }

    /// A cached FFTW plan (planning is not thread-safe; executing on new arrays is). `make` plans on scratch
    /// arrays of `sizes` (real, complex) elements; FFTW_ESTIMATE leaves them untouched.
    static func plan(key: String, sizes: (real: Int, complex: Int),
                     make: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<fftwf_complex>) -> OpaquePointer?) -> SharedPlan {
        lock.lock()
        defer { lock.unlock() }
        if let plan = plans[key] { return SharedPlan(plan: plan) }
        let real = fftwf_alloc_real(sizes.real)!, complex = fftwf_alloc_complex(sizes.complex)!
        defer { fftwf_free(real); fftwf_free(complex) }
        let plan = make(real, complex)!
        plans[key] = plan
        return SharedPlan(plan: plan)
    }

    /// Convolves `frames` NHWC images `[height, 1, Cin]` into raw sums `[outputHeight, 1, Cout]` (no bias).
    func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, frames: Int, height: Int, outputHeight: Int,
             padTop: Int) {
        let cin = inputChannels, cout = outputChannels, bins = self.bins, n = length, step = shape.segmentOutputs
        let perFrame = shape.segments(outputHeight: outputHeight), segments = frames * perFrame
        var inputSpectra = [Float](repeating: 0, count: 2 * bins * segments * cin)    // [bins, segments, Cin]
        var outputSpectra = [Float](repeating: 0, count: 2 * bins * segments * cout)  // [bins, segments, Cout]
        let forward = Self.plan(key: "x\(n)x\(cin)x\(segments)", sizes: (n * cin, bins * segments * cin)) { input, output in
            var size = Int32(n)
            return fftwf_plan_many_dft_r2c(1, &size, Int32(cin), input, nil, Int32(cin), 1, output, nil, Int32(segments * cin), 1,
                                           UInt32(FFTW_ESTIMATE | FFTW_UNALIGNED))
        }
        let backward = Self.plan(key: "y\(n)x\(cout)x\(segments)", sizes: (n * cout, bins * segments * cout)) { output, input in
            var size = Int32(n)
            return fftwf_plan_many_dft_c2r(1, &size, Int32(cout), input, nil, Int32(segments * cout), 1, output, nil, Int32(cout), 1,
                                           UInt32(FFTW_ESTIMATE | FFTW_UNALIGNED))
        }
        inputSpectra.withUnsafeMutableBufferPointer { xs in
            let spectraBase = SharedPointer(xs.baseAddress!), source = SharedReadPointer(input)
            Parallel.forEach(segments) { segment in
                // Segment s of a frame holds padded rows s·step ..< s·step + n, i.e. input rows shifted up by padTop.
                let frame = segment / perFrame, first = (segment % perFrame) * step - padTop
                let window = UnsafeMutablePointer<Float>.allocate(capacity: n * cin)
                defer { window.deallocate() }
                window.initialize(repeating: 0, count: n * cin)
                let rows = max(0, first)..<min(height, first + n)
                if !rows.isEmpty {
                    (window + (rows.lowerBound - first) * cin).update(from: source.base + (frame * height + rows.lowerBound) * cin,
                                                                     count: rows.count * cin)
                }
                (spectraBase.base + 2 * segment * cin).withMemoryRebound(to: fftwf_complex.self, capacity: 1) {
                    fftwf_execute_dft_r2c(forward.plan, window, $0)
                }
            }
        }
        _ = GEMM.configure
        inputSpectra.withUnsafeBufferPointer { xs in
            spectra.withUnsafeBufferPointer { ws in
                outputSpectra.withUnsafeMutableBufferPointer { ys in
                    let x = SharedReadPointer(xs.baseAddress!), w = SharedReadPointer(ws.baseAddress!), y = SharedPointer(ys.baseAddress!)
                    Parallel.forEach(bins) { bin in
                        var one: (Float, Float) = (1, 0), zero: (Float, Float) = (0, 0)
                        cblas_cgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(segments), Int32(cout), Int32(cin), &one,
                                    x.base + 2 * bin * segments * cin, Int32(cin), w.base + 2 * bin * cin * cout, Int32(cout), &zero,
                                    y.base + 2 * bin * segments * cout, Int32(cout))
                    }
                }
            }
        }
        outputSpectra.withUnsafeMutableBufferPointer { ys in
            let spectraBase = SharedPointer(ys.baseAddress!), target = SharedPointer(output)
            let scale = 1 / Float(n)
            Parallel.forEach(segments) { segment in
                let signal = UnsafeMutablePointer<Float>.allocate(capacity: n * cout)
                defer { signal.deallocate() }
                (spectraBase.base + 2 * segment * cout).withMemoryRebound(to: fftwf_complex.self, capacity: 1) {
                    fftwf_execute_dft_c2r(backward.plan, $0, signal)
                }
                let frame = segment / perFrame, first = (segment % perFrame) * step
                let count = min(step, outputHeight - first) * cout
                let out = target.base + (frame * outputHeight + first) * cout
                for i in 0..<count { out[i] = signal[i] * scale }
            }
        }
    }
}

/// An FFTW plan shared by worker threads (executing a plan on new arrays is thread-safe).
struct SharedPlan: @unchecked Sendable {
    let plan: OpaquePointer
}

/// FFT convolutions of one layer by input height, made on first use (a layer does not know its input height
/// until it runs).
final class FFTConvolutionCache: @unchecked Sendable {
    private let lock = NSLock()
    private var byHeight: [Int: FFTConvolution] = [:]

    func convolution(height: Int, make: () -> FFTConvolution) -> FFTConvolution {
        lock.lock()
        defer { lock.unlock() }
        if let existing = byHeight[height] { return existing }
        let made = make()
        byHeight[height] = made
        return made
    }
}
