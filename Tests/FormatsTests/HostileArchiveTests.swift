import Formats
import NetCore
import Foundation
import TestSupport
import Testing

/// Crafted archives and models (Tests/Reference/make_hostile_files.py) are refused before they inflate or
/// allocate what they claim.
@Suite struct HostileArchiveTests {
    func expectRefusal(_ file: String, mentioning fragment: String, _ read: (String) throws -> Void) {
        do {
            try read(TestSupport.fixture("hostile/\(file)"))
            Issue.record("\(file) was read")
        } catch {
            #expect("\(error)".contains(fragment), "\(file): \(error)")
            #expect(!"\(error)".contains("\n"), "one line: \(error)")
        }
    }

    @Test func entriesSharingOneDeflatedBlockAreRefused() {
        expectRefusal("npz-overlap.npz", mentioning: "share their data") { _ = try NPZ.read(path: $0) }
    }

    @Test func anEntryInflatingPastItsDeclaredSizeIsStoppedThere() {
        expectRefusal("npz-lying-size.npz", mentioning: "inflates past the 1000 bytes it declares") { _ = try NPZ.read(path: $0) }
    }

    @Test func anEntryDeclaringMoreThanDeflateCanProduceIsRefused() {
        expectRefusal("npz-impossible-ratio.npz", mentioning: "more than deflate can inflate") { _ = try NPZ.read(path: $0) }
    }

    @Test func aSymbolicLinkEntryClaimingGigabytesIsRefused() {
        expectRefusal("npz-symlink-size.npz", mentioning: "local header size outside the file") { _ = try NPZ.read(path: $0) }
    }

    /// A pickle whose BINFLOAT has its sign bit set (found by fuzzing: it trapped) reads as a state_dict of nothing.
    @Test func aNegativePickledFloatIsRead() throws {
        #expect(try PyTorchStateDict(path: TestSupport.fixture("hostile/pickle-negative-float.pth")).names.isEmpty)
    }

    @Test func aTFLiteShapeWhoseProductOverflowsIsRefused() {
        expectRefusal("tflite-shape-overflow.tflite", mentioning: "for shape [1073741824") { _ = try TFLiteModel(path: $0).floats(0) }
    }

    /// A DEQUANTIZE operator reading its own output (a fuzzing finding: the reader recursed until the stack overflowed)
    /// leaves every tensor it writes without constant data.
    @Test func aTFLiteDequantizeReadingItsOwnOutputIsRefused() throws {
        let model = try TFLiteModel(path: TestSupport.fixture("hostile/tflite-dequantize-cycle.tflite"))
        var refused = 0
        for index in model.tensors.indices {
            do { _ = try model.floats(index) } catch let error as ModelFileError {
                if "\(error)".contains("has no constant data") { refused += 1 }
            }
        }
        #expect(refused > 0)
    }

    @Test func anNPYShapeWhoseProductOverflowsIsRefused() {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 8), }"
        let padded = header + String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        let bytes = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(padded.utf8.count & 0xFF), UInt8(padded.utf8.count >> 8)] + Array(padded.utf8)
        #expect(throws: NPYError.malformedHeader("shape [4611686018427387904, 8] is too large")) { try NPY.decode(bytes) }
    }
}

/// The TFLite graph importer on a small hand-built graph (Tests/Fuzz/make_seeds.py: conv + ReLU, max pool,
/// reshape, dense, softmax), and on the same graph with operands removed or made inconsistent.
@Suite struct TFLiteGraphTests {
    let seed = TestSupport.repositoryRoot.appendingPathComponent("Tests/Fixtures/fuzz-corpus/tflite/conv-graph.tflite").path

    @Test func aSmallGraphImportsAndRuns() throws {
        let network = try TFLiteModel(path: seed).network()
        #expect(network.nodes.map(\.layer.typeName) == ["Conv2D", "MaxPool2D", "Reshape", "Dense", "Softmax"])
        let output = try network.run(Tensor(shape: [1, 4, 4, 2], scalars: (0..<32).map { Float($0) / 32 })).scalars
        #expect(output.count == 3 && abs(output.reduce(0, +) - 1) < 1e-5)
    }

    /// Every single-byte change of the graph's tables imports or throws; none traps.
    @Test func corruptedGraphsNeverTrap() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: seed)))
        for position in bytes.indices {
            for value: UInt8 in [0, 1, 0x7F, 0xFF] where bytes[position] != value {
                var copy = bytes
                copy[position] = value
                guard let model = try? TFLiteModel(bytes: copy) else { continue }
                _ = try? model.network()
            }
        }
    }
}
