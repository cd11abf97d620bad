import AudioNet
import Foundation
import Testing

/// A network's file as the DocC article "Adding a network" describes it, written by a program that uses
/// AudioNet: its layer table and its descriptor. TinyNet is a dense layer from 4 features to 3 classes and a softmax.
enum TinyNet {
    static let weightsFile = WeightFile(path: "tiny/tinynet.npy", format: "npy", source: .mirrorOnly, license: "CC0-1.0")

    /// `weights`: the kernel `[4, 3]` row by row, then the bias `[3]`.
    static func network(weights: [Float]?) throws -> Network {
        var net = Network(inputShape: [4])
        try net.add("dense", Dense(inputFeatures: 4, outputFeatures: 3, weights: weights.map { Array($0[0..<12]) },
                                   bias: weights.map { Array($0[12..<15]) }))
        try net.add("probabilities", Softmax())
        return net
    }

    static let descriptor = NetworkDescriptor(
        name: "tinynet", task: .soundClassification, depth: 1, sizeMB: 0.00006, parametersMillions: 0.000015, inputSize: [4, 1, 1],
        files: [weightsFile],
        architecture: { _, _ in try network(weights: nil) },
        load: { _, store, path in
            let values = try NPY.read(path: store.locate(weightsFile, explicit: path)).floats
            guard values.count == 15 else { throw NetworkError.invalidWeights("tinynet needs 15 values, the file has \(values.count)") }
            return try network(weights: values)
        })
}

/// The article's recipe, followed: one descriptor, registered, and the network is in the catalog and the
/// manifest (`models`, `weights list`), has a layer table (`info`) and runs by name on its weights (`run`).
@Suite(.serialized) struct AddingANetworkTests {
    let weights: [Float] = [0.5, -1, 0.25, 1, 0, -0.5, -0.25, 2, 0.75, 0, 1, -1] + [0.1, 0, -0.1]

    @Test func aRegisteredNetworkIsListedDescribedAndRunByName() throws {
        try Networks.register(TinyNet.descriptor)
        // models and weights list
        #expect(Networks.all.last?.name == "tinynet" && Networks.all.last?.task == .soundClassification)
        #expect(Networks.files.contains(TinyNet.weightsFile))
        // info
        let table = try Networks.architecture(named: "tinynet").summary
        #expect(table.map(\.name) == ["dense", "probabilities"] && table.reduce(0) { $0 + $1.parameters } == 15)
        // run, on weights found through a store
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tinynet-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("tiny"), withIntermediateDirectories: true)
        try NPY.write(NPYArray(shape: [15], float32: weights), path: directory.appendingPathComponent("tiny/tinynet.npy").path)
        let store = WeightStore(userDirectory: directory.path, cacheDirectory: nil, mirrorDirectory: nil)
        let network = try Networks.network(named: "tinynet", store: store)
        let inputs: [[Float]] = [[1, 0, 0, 0], [0.5, -1, 2, 0], [0, 0, 0, 0]]
        let output = try BatchRunner(network: network, batchSize: 2).run(examples: Tensor(shape: [3, 4], scalars: inputs.flatMap { $0 }),
                                                                          outputs: [network.outputName])[network.outputName]!
        #expect(output.shape == [3, 3])
        for (row, x) in inputs.enumerated() {
            var logits = [Float](repeating: 0, count: 3)
            for j in 0..<3 {
                logits[j] = weights[12 + j]
                for i in 0..<4 { logits[j] += x[i] * weights[i * 3 + j] }
            }
            let largest = logits.max()!
            let exponentials: [Float] = logits.map { exp($0 - largest) }
            let total: Float = exponentials.reduce(0, +)
            let expected: [Float] = exponentials.map { $0 / total }
            for j in 0..<3 { #expect(abs(output.scalars[row * 3 + j] - expected[j]) < 1e-6, "row \(row), class \(j)") }
        }
    }

    @Test func aMissingWeightFileIsNamedAndABuiltInNameCannotBeTaken() throws {
        try Networks.register(TinyNet.descriptor)
        let empty = WeightStore(userDirectory: nil, cacheDirectory: nil, mirrorDirectory: nil)
        #expect { try Networks.network(named: "tinynet", store: empty) } throws: { "\($0)".contains("tiny/tinynet.npy") }
        let impostor = NetworkDescriptor(name: "resnet50", task: .imageClassification, depth: nil, sizeMB: 0, parametersMillions: 0,
                                         inputSize: [1])
        #expect(throws: RegistryError.nameTaken("resnet50")) { try Networks.register(impostor) }
    }
}
