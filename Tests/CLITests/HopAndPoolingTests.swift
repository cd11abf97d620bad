import Foundation
import Formats
import NetCore
import TestSupport
import Testing

/// `classify --hop/--scores` and `embed --pool`: YAMNet's patches every chosen hop, its per-patch score matrix, one
/// embedding per file.
@Suite struct HopAndPoolingTests {
    let folder = TestSupport.temporaryDirectory()
    static let speech = TestSupport.repositoryRoot.appendingPathComponent("Samples/speech.wav").path

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
    func read(_ name: String) throws -> Tensor { try NPY.read(path: path(name)).tensor }

    /// Mean and max pooling are the column means and maxima of the per-example rows.
    @Test(arguments: ["mean", "max"])
    func aPooledEmbeddingIsTheRowsMeanOrMaximum(_ pooling: String) throws {
        #expect(try TestSupport.run(["embed", Self.speech, "--output", path("rows.npy")]).status == 0)
        let run = try TestSupport.run(["embed", Self.speech, "--output", path("pooled.npy"), "--pool", pooling])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try read("rows.npy"), pooled = try read("pooled.npy")
        let (count, size) = (rows.shape[0], rows.shape[1])
        #expect(count > 1 && pooled.shape == [size])
        for column in 0..<size {
            let values = (0..<count).map { rows.scalars[$0 * size + column] }
            let expected = pooling == "max" ? values.max()! : values.reduce(0, +) / Float(count)
            #expect(abs(pooled.scalars[column] - expected) <= 1e-5, "column \(column)")
        }
    }

    /// --scores writes a row of 521 scores per patch, --timestamps each patch's start: at a hop of 0.24 s the patches
    /// come twice as often, and the clip score `--clip` prints is their column mean.
    @Test func scoresHoldEveryPatchAtTheChosenHop() throws {
        let run = try TestSupport.run(["classify", Self.speech, "--hop", "0.24", "--scores", path("s.npy"), "--timestamps", path("t.npy"),
                                       "--clip", "--top", "1", "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try TestSupport.run(["classify", Self.speech, "--scores", path("default.npy")]).status == 0)
        let scores = try read("s.npy"), times = try read("t.npy"), standard = try read("default.npy")
        let count = scores.shape[0]
        #expect(scores.shape == [count, 521] && times.scalars.prefix(3) == [0, 0.24, 0.48])
        #expect(count >= 2 * standard.shape[0] - 1, "\(count) patches at 0.24 s, \(standard.shape[0]) at 0.48 s")
        let prediction = try #require((try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])?["predictions"] as? [[String: Any]])
        let index = prediction[0]["index"] as! Int, score = (prediction[0]["score"] as! NSNumber).floatValue
        let mean = (0..<count).map { scores.scalars[$0 * 521 + index] }.reduce(0, +) / Float(count)
        #expect(abs(mean - score) <= 1e-5, "\(mean) vs \(score)")
    }

    @Test func mismatchedOptionsAreOneLineErrors() throws {
        for arguments in [["classify", Self.speech, "--timestamps", path("t.npy")],
                          ["classify", Self.speech, Self.speech, "--scores", path("s.npy")],
                          ["embed", Self.speech, "--output", path("e.npy"), "--pool", "mean", "--timestamps", path("t.npy")],
                          ["embed", Self.speech, "--output", path("e.npy"), "--pool", "median"]] {
            let run = try TestSupport.run(arguments)
            #expect(run.status == 1 && run.stderr.split(separator: "\n").count == 1, "\(arguments): \(run.stderr)")
        }
    }
}
