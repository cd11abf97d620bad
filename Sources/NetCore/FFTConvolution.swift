import CBLAS
import CFFTW
import Foundation

/// A tall 1-D convolution (a `k×1` kernel over a width-1 image, one group) by FFT with overlap-save: the padded
/// input is cut into segments of `length` rows that overlap by `taps − 1`; each segment's channels are transformed once,
/// each frequency bin becomes one complex GEMM `[segments × Cin] · [Cin × Cout]` with the conjugated kernel spectra, and
/// each segment's first `length − taps + 1` outputs are transformed back. For CREPE's 64-tap layers this is about 16
/// times fewer multiplies than the direct convolution.
///
/// A stride `s` runs as stride 1 over the input's phases: `s` consecutive rows of `Cin` channels are one row of `s·Cin`
/// channels, and the kernel's `s` consecutive taps one tap, so HWIO weights `[taps, Cin, Cout]` already are the
/// phase kernel `[⌈taps / s⌉, s·Cin, Cout]` (zero-padded at the end). CREPE's first layer (512 taps, stride 4, one
/// input channel) becomes 128 taps over 4 channels.
final class FFTConvolution: @unchecked Sendable {
    /// Transform length and segments for a kernel of `taps` giving `outputs` rows (in phase rows when strided).
    struct Shape {
        let taps: Int, outputs: Int
        /// A power of two, the shorter of one segment for all outputs and two kernels' length (the GEMM work is the
        /// same either way; shorter transforms keep fewer kernel spectra: 68 MB for CREPE full's second layer instead of
        /// 135 MB).
        var length: Int { min(Self.powerOfTwo(atLeast: outputs + taps - 1), Self.powerOfTwo(atLeast: 2 * taps - 1)) }
        var bins: Int { length / 2 + 1 }
        /// Outputs each segment gives (the rest of its circular correlation wraps around).
        var segmentOutputs: Int { length - taps + 1 }
        var segments: Int { (outputs + segmentOutputs - 1) / segmentOutputs }

        /// The shape of the phase kernel (⌈taps / stride⌉ taps) for a kernel of `taps` at `stride` giving `outputs` rows.
        static func phases(taps: Int, stride: Int, outputs: Int) -> Shape {
            Shape(taps: (taps + stride - 1) / stride, outputs: outputs)
        }

        static func powerOfTwo(atLeast n: Int) -> Int { var p = 1; while p < n { p *= 2 }; return p }
    }

    /// Channels of a phase row (`stride · Cin`), output channels, and the stride.
    let inputChannels: Int, outputChannels: Int, stride: Int
    let shape: Shape
    var length: Int { shape.length }
    var bins: Int { shape.bins }
    /// Conjugated kernel spectra `[bins, stride·Cin, Cout]`, interleaved complex.
    private let spectra: [Float]

    private static let plans = Memo<String, OpaquePointer>()

    /// `weights` are HWIO `[taps, 1, Cin, Cout]`; the layer gives `outputs` rows.
    init(weights: [Float], taps: Int, stride: Int, inputChannels: Int, outputChannels: Int, outputs: Int) {
        self.inputChannels = stride * inputChannels
        self.outputChannels = outputChannels
        self.stride = stride
        shape = Shape.phases(taps: taps, stride: stride, outputs: outputs)
        let length = shape.length, phaseTaps = shape.taps
        let pairs = self.inputChannels * outputChannels, bins = length / 2 + 1
        var spectra = [Float](repeating: 0, count: 2 * bins * pairs)
        // Blocks of (input, output) pairs in parallel: gather each pair's taps into a contiguous zero-padded row,
        // transform the rows, and scatter the conjugated bins to [bins, pairs].
        let block = 256
        spectra.withUnsafeMutableBufferPointer { target in
            weights.withUnsafeBufferPointer { source in
                let w = SharedReadPointer(source.baseAddress!), out = SharedPointer(target.baseAddress!)
                let total = weights.count
                Parallel.forEach((pairs + block - 1) / block, scratch: Parallel.alignedScratch(length * block) + 2 * bins * block) { index, scratch in
                    let first = index * block, count = min(block, pairs - first)
                    let rows = scratch, transformed = scratch + Parallel.alignedScratch(length * block)
                    rows.update(repeating: 0, count: length * count)
                    for tap in 0..<phaseTaps {
                        let start = tap * pairs + first, present = max(0, min(count, total - start))
                        for pair in 0..<present { rows[pair * length + tap] = w.base[start + pair] }
                    }
                    Self.transform(rows, into: transformed, length: length, count: count)
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

    /// The first `count` values of the phase kernel `[taps, stride·Cin, Cout]` made again from the spectra — the HWIO
    /// weights the convolution was made from (`count` of them), to float rounding: each pair's inverse transform.
    func kernel(count: Int) -> [Float] {
        let pairs = inputChannels * outputChannels, bins = self.bins, length = self.length, phaseTaps = shape.taps
        let block = 256, scale = 1 / Float(length)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let out = SharedPointer(buffer.baseAddress!)
            spectra.withUnsafeBufferPointer { source in
                let w = SharedReadPointer(source.baseAddress!)
                Parallel.forEach((pairs + block - 1) / block, scratch: Parallel.alignedScratch(length * block) + 2 * bins * block) { index, scratch in
                    let first = index * block, pairCount = min(block, pairs - first)
                    let rows = scratch, gathered = scratch + Parallel.alignedScratch(length * block)
                    for bin in 0..<bins {
                        let spectrum = w.base + 2 * (bin * pairs + first)
                        for pair in 0..<pairCount {
                            gathered[2 * (pair * bins + bin)] = spectrum[2 * pair]
                            gathered[2 * (pair * bins + bin) + 1] = -spectrum[2 * pair + 1]
                        }
                    }
                    Self.inverseTransform(gathered, into: rows, length: length, count: pairCount)
                    for tap in 0..<phaseTaps {
                        let start = tap * pairs + first, present = max(0, min(pairCount, count - start))
                        for pair in 0..<present { out.base[start + pair] = rows[pair * length + tap] * scale }
                    }
                }
            }
            initialized = count
        }
    }

    /// A cached FFTW plan (planning is not thread-safe; executing on new arrays is). `make` plans on scratch
    /// arrays of `sizes` (real, complex) elements; FFTW_ESTIMATE leaves them untouched.
    static func plan(key: String, sizes: (real: Int, complex: Int),
                     make: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<fftwf_complex>) -> OpaquePointer?) -> SharedPlan {
        SharedPlan(plan: plans.value(for: key) {
            let real = fftwf_alloc_real(sizes.real)!, complex = fftwf_alloc_complex(sizes.complex)!
            defer { fftwf_free(real); fftwf_free(complex) }
            return make(real, complex)!
        })
    }

    /// Convolves `frames` NHWC images `[height, 1, Cin]`, padded by `padTop` rows above, into raw sums
    /// `[outputs, 1, Cout]` (no bias).
    func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, frames: Int, height: Int, padTop: Int) {
        let cin = inputChannels, cout = outputChannels, bins = self.bins, n = length, step = shape.segmentOutputs
        let originalChannels = cin / stride, outputHeight = shape.outputs
        let perFrame = shape.segments, segments = frames * perFrame
        // Each segment's spectra are one contiguous [bins, channels] block; a bin's GEMM reads its rows across
        // segments at a stride of bins · channels.
        // Both are written whole before they are read (the GEMMs' β is 0), so they are not zero-filled first.
        var inputSpectra = [Float](unsafeUninitializedCapacity: 2 * bins * segments * cin) { $1 = $0.count }    // [segments, bins, Cin]
        var outputSpectra = [Float](unsafeUninitializedCapacity: 2 * bins * segments * cout) { $1 = $0.count }  // [segments, bins, Cout]
        // Channels are transformed a block at a time from contiguous rows, so that a transform reads a few cache lines
        // rather than one line per row at a stride of the channel count.
        let block = 16
        inputSpectra.withUnsafeMutableBufferPointer { xs in
            let spectra = SharedPointer(xs.baseAddress!), source = SharedReadPointer(input)
            let rowsAt = Parallel.alignedScratch(n * cin), transformedAt = rowsAt + Parallel.alignedScratch(block * n)
            Parallel.forEach(segments, scratch: transformedAt + block * 2 * bins) { segment, scratch in
                // Segment s of a frame holds phase rows s·step ..< s·step + n: padded input rows from s·step·stride on,
                // i.e. input rows shifted up by padTop.
                let frame = segment / perFrame, first = (segment % perFrame) * step * stride - padTop
                let window = scratch, rows = scratch + rowsAt, transformed = scratch + transformedAt
                window.update(repeating: 0, count: n * cin)
                let present = max(0, first)..<min(height, first + n * stride)
                if !present.isEmpty {
                    (window + (present.lowerBound - first) * originalChannels).update(
                        from: source.base + (frame * height + present.lowerBound) * originalChannels, count: present.count * originalChannels)
                }
                let target = spectra.base + 2 * segment * bins * cin
                for first in Swift.stride(from: 0, to: cin, by: block) {
                    let count = min(block, cin - first)
                    for row in 0..<n { for channel in 0..<count { rows[channel * n + row] = window[row * cin + first + channel] } }
                    Self.transform(rows, into: transformed, length: n, count: count)
                    for bin in 0..<bins {
                        for channel in 0..<count {
                            target[2 * (bin * cin + first + channel)] = transformed[2 * (channel * bins + bin)]
                            target[2 * (bin * cin + first + channel) + 1] = transformed[2 * (channel * bins + bin) + 1]
                        }
                    }
                }
            }
        }
        inputSpectra.withUnsafeBufferPointer { xs in
            spectra.withUnsafeBufferPointer { ws in
                outputSpectra.withUnsafeMutableBufferPointer { ys in
                    let x = SharedReadPointer(xs.baseAddress!), w = SharedReadPointer(ws.baseAddress!), y = SharedPointer(ys.baseAddress!)
                    Parallel.forEach(bins) { bin in
                        var one: (Float, Float) = (1, 0), zero: (Float, Float) = (0, 0)
                        cblas_cgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(segments), Int32(cout), Int32(cin), &one,
                                    x.base + 2 * bin * cin, Int32(bins * cin), w.base + 2 * bin * cin * cout, Int32(cout), &zero,
                                    y.base + 2 * bin * cout, Int32(bins * cout))
                    }
                }
            }
        }
        outputSpectra.withUnsafeMutableBufferPointer { ys in
            let spectra = SharedReadPointer(ys.baseAddress!), target = SharedPointer(output)
            let scale = 1 / Float(n)
            let gatheredAt = Parallel.alignedScratch(block * n)
            Parallel.forEach(segments, scratch: gatheredAt + block * 2 * bins) { segment, scratch in
                let frame = segment / perFrame, first = (segment % perFrame) * step
                let rows = min(step, outputHeight - first)
                let source = spectra.base + 2 * segment * bins * cout, out = target.base + (frame * outputHeight + first) * cout
                let signal = scratch, gathered = scratch + gatheredAt
                for first in Swift.stride(from: 0, to: cout, by: block) {
                    let count = min(block, cout - first)
                    for channel in 0..<count {
                        for bin in 0..<bins {
                            gathered[2 * (channel * bins + bin)] = source[2 * (bin * cout + first + channel)]
                            gathered[2 * (channel * bins + bin) + 1] = source[2 * (bin * cout + first + channel) + 1]
                        }
                    }
                    Self.inverseTransform(gathered, into: signal, length: n, count: count)
                    for row in 0..<rows { for channel in 0..<count { out[row * cout + first + channel] = signal[channel * n + row] * scale } }
                }
            }
        }
    }

    /// The spectra `[count, length / 2 + 1]` of `count` contiguous real rows `[count, length]`. Both arrays are
    /// aligned as ``Parallel/scratchAlignment`` says: the plans assume it (FFTW_UNALIGNED made transforms of 256–1024
    /// points 2–3× slower).
    static func transform(_ rows: UnsafeMutablePointer<Float>, into spectra: UnsafeMutablePointer<Float>, length: Int, count: Int) {
        let bins = length / 2 + 1
        let plan = Self.plan(key: "r\(length)x\(count)", sizes: (length * count, bins * count)) { input, output in
            var n = Int32(length)
            return fftwf_plan_many_dft_r2c(1, &n, Int32(count), input, nil, 1, Int32(length), output, nil, 1, Int32(bins),
                                           UInt32(FFTW_ESTIMATE))
        }
        spectra.withMemoryRebound(to: fftwf_complex.self, capacity: bins * count) { fftwf_execute_dft_r2c(plan.plan, rows, $0) }
    }

    /// The unnormalised inverse of ``transform(_:into:length:count:)`` (`spectra` is overwritten; both arrays aligned).
    static func inverseTransform(_ spectra: UnsafeMutablePointer<Float>, into rows: UnsafeMutablePointer<Float>, length: Int, count: Int) {
        let bins = length / 2 + 1
        let plan = Self.plan(key: "c\(length)x\(count)", sizes: (length * count, bins * count)) { output, input in
            var n = Int32(length)
            return fftwf_plan_many_dft_c2r(1, &n, Int32(count), input, nil, 1, Int32(bins), output, nil, 1, Int32(length),
                                           UInt32(FFTW_ESTIMATE))
        }
        spectra.withMemoryRebound(to: fftwf_complex.self, capacity: bins * count) { fftwf_execute_dft_c2r(plan.plan, $0, rows) }
    }
}

/// An FFTW plan shared by worker threads (executing a plan on new arrays is thread-safe).
struct SharedPlan: @unchecked Sendable {
    let plan: OpaquePointer
}
