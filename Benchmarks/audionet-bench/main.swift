// Measures AudioNet's hot paths and prints one JSON object per line; Benchmarks/bench.py runs it beside
// the reference implementations and prints the side-by-side table.
import AudioNet
import CBLAS
import Foundation

/// Best wall-clock time of `repeats` runs of `body`, in seconds.
/// The shortest of `repeats` runs of `body`, repeated further until the runs took `seconds` in all (a short run's best
/// of three is mostly the host's noise).
func bestTime(repeats: Int, seconds: Double = 0, _ body: () -> Void) -> Double {
    var best = Double.infinity, total = 0.0, runs = 0
    while runs < repeats || total < seconds {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        let time = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        best = min(best, time)
        total += time
        runs += 1
    }
    return best
}

func report(_ fields: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

/// YAMNet log-mel patches of a 10-minute 16 kHz noise signal, in × realtime.
func frontEnd(threads: Int) {
    let seconds = 600.0
    let signal = randomSignal(seconds: seconds, rate: 16_000)
    let time = bestTime(repeats: 5) { _ = LogMelFrontEnd.yamnet.logMelPatches(signal) }
    report(["case": "yamnet log-mel, 10 min", "threads": threads, "tool": "AudioNet",
            "value": seconds / time, "unit": "x realtime"])
}

/// OpenBLAS sgemm on 2048³, in GFLOP/s: the ceiling for the CNN engine.
func sgemm(threads: Int) {
    let n = 2048
    let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
    var c = [Float](repeating: 0, count: n * n)
    openblas_set_num_threads(Int32(threads))
    let time = bestTime(repeats: 3) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
    }
    report(["case": "sgemm 2048³", "threads": threads, "tool": "OpenBLAS (linked)", "value": 2 * pow(Double(n), 3) / time / 1e9,
            "unit": "GFLOP/s"])
}

/// A convolution of the engine on random data, in GFLOP/s (2 FLOPs per multiply-add).
func convolution(_ label: String, _ layer: Conv2D, input shape: [Int], threads: Int) {
    let input = Tensor(shape: shape, scalars: noise(count: shape.reduce(1, *), amplitude: 1))
    let flops = 2 * Double(layer.multiplyAdds(for: [Array(shape.dropFirst())])) * Double(shape[0])
    _ = layer.forward([input])
    let time = bestTime(repeats: 5) { _ = layer.forward([input]) }
    report(["case": label, "threads": threads, "tool": "AudioNet", "value": flops / time / 1e9, "unit": "GFLOP/s"])
}

func randomWeights(_ count: Int) -> [Float] { noise(count: count, amplitude: 0.1) }

/// YAMNet end to end on an audio file (decode → resample → features → network), in seconds of audio per second.
func yamnet(path: String, threads: Int, precision: Precision) throws {
    let classifier = try SoundClassifier.yamnet(precision: precision)
    var duration = 0.0
    let time = bestTime(repeats: 2, seconds: 2) { duration = (try? classifier.analyze(file: path))?.duration ?? .nan }
    report(["case": "yamnet end to end", "threads": threads, "tool": "AudioNet \(precision.rawValue)", "value": duration / time,
            "unit": "x realtime"])
}

/// CREPE on `seconds` of a 16 kHz test signal (framing, network, local-average decoding), in frames per second.
func crepe(_ capacity: CREPE.Capacity, seconds: Double, threads: Int) throws {
    let estimator = try PitchEstimator.crepe(capacity)
    let signal = (0..<Int(seconds * 16_000)).map { n in Float(0.5 * sin(2 * Double.pi * 220 * Double(n) / 16_000)) }
    var frames = 0
    let time = bestTime(repeats: 1, seconds: 2) { frames = (try? estimator.estimate(samples: signal))?.times.count ?? 0 }
    report(["case": "\(capacity.modelName), \(Int(seconds)) s", "threads": threads, "tool": "AudioNet",
            "value": Double(frames) / time, "unit": "frames/s"])
}

/// Transfer learning on a dataset folder: YAMNet clip embeddings of every file (no cache), in files per second; then
/// the head (softmax regression, Adam with cosine decay, batch 32, `epochs` epochs, no early stopping) on them, in trainings per second.
/// The embeddings and labels go to `OUTPUT/train_x.npy` and `train_y.npy` for the peers to train on.
func train(dataset: String, epochs: Int, output: String, threads: Int) throws {
    let files = try LabeledFiles(contentsOf: dataset)
    let trainer = try Trainer(backbone: YAMNet.descriptor.name)
    var embedded: EmbeddedFiles?
    let embedTime = bestTime(repeats: 1) { embedded = trainer.embed(files.paths) }
    guard let embedded, embedded.failures.isEmpty else { fatalError("cannot read every file of \(dataset)") }
    report(["case": "embed \(files.paths.count) files", "threads": threads, "tool": "AudioNet", "value": Double(files.paths.count) / embedTime,
            "unit": "files/s"])
    let labels = embedded.kept.map { files.labels[$0] }
    try NPY.write(NPYArray(embedded.embeddings), path: output + "/train_x.npy")
    try NPY.write(NPYArray(Tensor(shape: [labels.count], scalars: labels.map(Float.init))), path: output + "/train_y.npy")
    var options = TrainingOptions()
    options.epochs = epochs
    let trainTime = bestTime(repeats: 3) {
        _ = Trainer.fit(train: (embedded.embeddings, labels), validation: nil, classes: files.classes.count, options: options)
    }
    report(["case": "train head, \(labels.count) embeddings, \(epochs) epochs", "threads": threads, "tool": "AudioNet",
            "value": 1 / trainTime, "unit": "trainings/s"])
}

/// One fine-tuning epoch of ResNet-18 with its last stage and classifier trainable (random weights, BatchNorm frozen) on
/// one batch of `batch` random images: the frozen part's inference pass, then the trainable part forward and backward
/// and an Adam step; epochs per second.
func fineTuneResNet18(batch: Int, threads: Int) throws {
    var network = try FineTunableNetwork(try ResNet.network(.resnet18, weights: nil), trainableFrom: "layer4.0.conv1")
    network.setLearnables(network.learnables.map { noise(count: $0.count, amplitude: 0.05) })
    let images = Tensor(shape: [batch, 224, 224, 3], scalars: noise(count: batch * 224 * 224 * 3))
    let labels = (0..<batch).map { $0 * 31 % 1000 }
    var optimizer = Adam(learningRate: 1e-4)
    func epoch() {
        let values = network.forward(from: try! network.frozenActivations(images))
        let gradient = SoftmaxCrossEntropy.loss(logits: values[network.outputName]!, labels: labels).gradient
        var learnables = network.learnables
        optimizer.step(&learnables, gradients: network.backward(values, outputGradient: gradient))
        network.setLearnables(learnables)
    }
    epoch()
    let time = bestTime(repeats: 3, epoch)
    report(["case": "fine-tune resnet18 layer4+fc, batch \(batch)", "threads": threads, "tool": "AudioNet", "value": 1 / time, "unit": "epochs/s"])
}

/// One fine-tuning epoch of YAMNet with its last two blocks trainable (`--fine-tune-layers 4`, the shipped recipe
/// otherwise, nothing held out) over every file of a dataset folder, through `Trainer.fit`: the time between the ends
/// of consecutive epochs (the frozen blocks run once before the first), best of two; epochs per second.
func fineTuneYAMNet(dataset: String, threads: Int) throws {
    let files = try LabeledFiles(contentsOf: dataset)
    var options = TrainingOptions()
    options.fineTuning = .lastLayers(4)
    options.validationFraction = 0
    options.epochs = 3
    var ends: [UInt64] = []
    _ = try Trainer(backbone: YAMNet.descriptor.name).fit(dataset: files, options: options) { event in
        if case .epoch = event { ends.append(DispatchTime.now().uptimeNanoseconds) }
    }
    let time = zip(ends, ends.dropFirst()).map { Double($1 - $0) / 1e9 }.min()!
    report(["case": "fine-tune yamnet last 2 blocks, \(files.paths.count) files", "threads": threads, "tool": "AudioNet", "value": 1 / time,
            "unit": "epochs/s"])
}

/// Uniform noise in [−amplitude, amplitude) from a linear congruential generator (Knuth's MMIX constants):
/// reproducible, and cheap (the system generator's getrandom calls dominated the profiles).
func noise(count: Int, amplitude: Float = 0.5) -> [Float] {
    var state: UInt64 = 1
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * amplitude
    }
}

func randomSignal(seconds: Double, rate: Int) -> [Float] { noise(count: Int(seconds * Double(rate))) }

/// VGGish embeddings (front end + network; random weights: speed does not depend on their values), x realtime.
func vggish(seconds: Double, threads: Int) throws {
    let embedder = try AudioEmbedder(pipeline: AudioPipeline(name: VGGish.descriptor.name, network: VGGish.network(weights: nil)))
    let signal = randomSignal(seconds: seconds, rate: 16_000)
    let time = bestTime(repeats: 2) { _ = try? embedder.embed(samples: signal) }
    report(["case": "vggish", "threads": threads, "tool": "AudioNet", "value": seconds / time, "unit": "x realtime"])
}

/// OpenL3 mel256 6144 embeddings (front end + network, windows every 0.1 s), x realtime.
func openl3(seconds: Double, threads: Int) throws {
    let configuration = OpenL3.Configuration(representation: .mel256, content: "music", embeddingSize: 6144)
    let embedder = try AudioEmbedder(pipeline: AudioPipeline(name: configuration.modelName, network: OpenL3.network(configuration, weights: nil)))
    let signal = randomSignal(seconds: seconds, rate: 48_000)
    let time = bestTime(repeats: 1) { _ = try? embedder.embed(samples: signal) }
    report(["case": "openl3", "threads": threads, "tool": "AudioNet", "value": seconds / time, "unit": "x realtime"])
}

/// An image network on a batch of random inputs, images per second; `calibrated`: int8 with its input ranges fixed on 4
/// other random inputs (static int8, what ONNX Runtime's `quantize_static` models run).
func image(_ name: String, batch: Int, threads: Int, precision: Precision, calibrated: Bool) throws {
    let architecture = try Networks.architecture(named: name)
    func inputs(_ count: Int) -> Tensor {
        Tensor(shape: [count] + architecture.inputShape, scalars: randomSignal(seconds: Double(count * architecture.inputShape.reduce(1, *)), rate: 1))
    }
    let network = calibrated ? try architecture.prepared(for: precision, calibratedOn: inputs(4)) : architecture.prepared(for: precision)
    let input = inputs(batch), buffers = ActivationBuffers()  // reused from run to run, as BatchRunner does
    _ = try network.run(input, outputs: [network.outputName], reusing: buffers)
    let time = bestTime(repeats: 3, seconds: 2) { _ = try? network.run(input, outputs: [network.outputName], reusing: buffers) }
    report(["case": "\(name) batch \(batch)", "threads": threads, "tool": "AudioNet \(precision.rawValue)\(calibrated ? " calibrated" : "")",
            "value": Double(batch) / time, "unit": "images/s"])
}

GEMM.restartWithTheKernelsThisProcessorAllows()
let arguments = CommandLine.arguments.dropFirst()
guard let name = arguments.first, let threads = arguments.dropFirst().first.flatMap({ Int($0) }) else {
    FileHandle.standardError.write(Data("usage: audionet-bench frontend|sgemm|conv1x1|conv3x3|yamnet|crepe-full|crepe-tiny|vggish|openl3|image|train|fine-tune-resnet18|fine-tune-yamnet THREADS [ARGS]\n".utf8))
    exit(2)
}
setenv("AUDIONET_THREADS", String(threads), 1)
// AUDIONET_SIMD_LEVEL=1 (AVX-VNNI int8, AVX2 clones of the portable bodies) or 0 (portable bodies; still their
// AVX2 clones on x86-64 Linux) measures what a processor without AVX-512 runs; the kernels read it themselves.
do {
    switch name {
    case "frontend": frontEnd(threads: threads)
    case "sgemm": sgemm(threads: threads)
    case "yamnet":
        let rest = Array(arguments.dropFirst(2))
        guard let path = rest.first, let precision = Precision(rawValue: rest.dropFirst().first ?? "float32") else {
            fatalError("usage: audionet-bench yamnet THREADS FILE [float32|int8]")
        }
        try yamnet(path: path, threads: threads, precision: precision)
    case "crepe-full", "crepe-tiny":
        let seconds = arguments.dropFirst(2).first.flatMap { Double($0) } ?? 60
        try crepe(name == "crepe-full" ? .full : .tiny, seconds: seconds, threads: threads)
    case "vggish":
        try vggish(seconds: arguments.dropFirst(2).first.flatMap { Double($0) } ?? 60, threads: threads)
    case "openl3":
        try openl3(seconds: arguments.dropFirst(2).first.flatMap { Double($0) } ?? 10, threads: threads)
    case "train":
        let rest = Array(arguments.dropFirst(2))
        guard rest.count == 3, let epochs = Int(rest[1]) else { fatalError("usage: audionet-bench train THREADS DATASET EPOCHS OUTPUT_DIR") }
        try train(dataset: rest[0], epochs: epochs, output: rest[2], threads: threads)
    case "image":
        let rest = Array(arguments.dropFirst(2))
        let calibrated = rest.count == 3 && rest[2] == "int8-calibrated"
        guard (2...3).contains(rest.count), let batch = Int(rest[1]),
              let precision = calibrated ? .int8 : Precision(rawValue: rest.count == 3 ? rest[2] : "float32") else {
            fatalError("usage: audionet-bench image THREADS NAME BATCH [float32|int8|int8-calibrated]")
        }
        try image(rest[0], batch: batch, threads: threads, precision: precision, calibrated: calibrated)
    case "fine-tune-resnet18":
        try fineTuneResNet18(batch: arguments.dropFirst(2).first.flatMap { Int($0) } ?? 32, threads: threads)
    case "fine-tune-yamnet":
        guard let dataset = arguments.dropFirst(2).first else { fatalError("usage: audionet-bench fine-tune-yamnet THREADS DATASET") }
        try fineTuneYAMNet(dataset: dataset, threads: threads)
    case "conv1x1":
        convolution("conv 1x1 56x56x256->64, batch 8",
                    Conv2D(inputChannels: 256, outputChannels: 64, kernel: (1, 1), weights: randomWeights(256 * 64)),
                    input: [8, 56, 56, 256], threads: threads)
    case "conv3x3":
        convolution("conv 3x3 56x56x64->64, batch 8",
                    Conv2D(inputChannels: 64, outputChannels: 64, kernel: (3, 3), padding: .same, weights: randomWeights(9 * 64 * 64)),
                    input: [8, 56, 56, 64], threads: threads)
    default:
        FileHandle.standardError.write(Data("unknown benchmark '\(name)'\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("audionet-bench: \(error)\n".utf8))
    exit(1)
}
