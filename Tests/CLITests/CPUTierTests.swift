import AudioIO
import Foundation
import TestSupport
import Testing

/// Debian's user-mode x86-64 emulator, when installed.
let qemu = ["/usr/bin/qemu-x86_64", "/usr/local/bin/qemu-x86_64"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// The tiers this processor may lack, run under Debian's qemu-user: `Haswell` (AVX2 and FMA, no AVX-512) and
/// `qemu64` (baseline x86-64). The kernel tests pass there, and the commands give the native run's results
/// within the tier's tolerance: float32 1e-4 relative (OpenBLAS picks another kernel), int8 0.05 on scores
/// (a rounding difference may move an activation across a quantization step).
@Suite(.serialized, .enabled(if: qemu != nil,
                             "qemu-x86_64 (Debian's qemu-user) is not installed: the AVX2 and baseline tiers are not checked; `make setup` installs it"))
struct CPUTierTests {
    static let emulator = qemu
    static let models = ["Haswell", "qemu64"]

    /// The emulator's command line. OpenBLAS reads `qemu64`'s AMD family-15 signature as an Opteron and runs
    /// 3DNow! code that the emulated processor lacks (no real processor has that signature without 3DNow!), so
    /// its SSE3 kernel is named there.
    func wrapper(_ cpu: String) -> [String] {
        let blas = cpu == "qemu64" ? ["-E", "OPENBLAS_CORETYPE=Prescott"] : []
        return [Self.emulator!, "-cpu", cpu] + blas
    }

    /// Runs natively and under the emulated CPU; both succeed and agree within `tolerance`.
    func expectAgreement(_ arguments: [String], cpu: String, tolerance: Double, absolute: Double = 1e-6) throws {
        let native = try TestSupport.run(arguments)
        let emulated = try TestSupport.run(arguments, wrapper: wrapper(cpu))
        #expect(native.status == 0 && emulated.status == 0, "\(arguments) on \(cpu): \(emulated.stderr)")
        #expect(TestSupport.agree(native.stdout, emulated.stdout, tolerance: tolerance, absolute: absolute),
                "\(arguments) on \(cpu):\n\(emulated.stdout)\nnative:\n\(native.stdout)")
    }

    @Test(arguments: models) func kernelAndLayerTestsPassOnTheEmulatedProcessor(cpu: String) throws {
        let tests = TestSupport.executable.deletingLastPathComponent().appendingPathComponent("AudioNetPackageTests.xctest")
        let result = try TestSupport.run(["--testing-library", "swift-testing", "--filter", "NetCoreTests"], wrapper: wrapper(cpu), program: tests)
        let lines = result.stderr.split(separator: "\n")
        // A run that crashed (an instruction the emulated processor lacks, a fault) prints no summary: its exit status and
        // last lines — the test that was running, the emulator's signal — say where.
        let summary = lines.last { $0.contains("Test run with") }.map(String.init)
            ?? "no summary; exit status \(result.status), the run's last lines:\n" + lines.suffix(6).joined(separator: "\n")
        let failures = lines.filter { $0.hasPrefix("✘") && $0.contains("recorded an issue") }
        #expect(result.status == 0 && summary.contains("passed"), "\(cpu): \(summary)\n\(failures.joined(separator: "\n"))")
    }

    @Test(arguments: models) func classifyAgreesWithTheNativeRun(cpu: String) throws {
        let speech = TestSupport.fixture("frontend/speech.wav")
        try expectAgreement(["classify", speech, "--clip", "--top", "5", "--format", "csv"], cpu: cpu, tolerance: 1e-4)
        try expectAgreement(["classify", speech, "--format", "csv"], cpu: cpu, tolerance: 1e-4)
        try expectAgreement(["classify", speech, "--clip", "--top", "1", "--precision", "int8", "--format", "csv"], cpu: cpu,
                            tolerance: 0, absolute: 0.05)
    }

    /// A quarter of a second of the tone fixture: CREPE is slow under emulation.
    @Test(arguments: models) func pitchAgreesWithTheNativeRun(cpu: String) throws {
        let tone = try AudioFileReader.readMono(path: TestSupport.fixture("frontend/tone.wav")).samples
        let clip = TestSupport.temporaryDirectory().appendingPathComponent("tone.wav").path
        try AudioFileWriter.write(path: clip, samples: Array(tone.prefix(4000)), sampleRate: 16_000, encoding: .float32)
        try expectAgreement(["pitch", clip, "--model", "crepe-tiny"], cpu: cpu, tolerance: 1e-4)
    }

    @Test(arguments: models) func imageClassifyAgreesWithTheNativeRun(cpu: String) throws {
        guard let mirror = ProcessInfo.processInfo.environment["AUDIONET_WEIGHTS_MIRROR"] else {
            Issue.record("AUDIONET_WEIGHTS_MIRROR is not set, so the shared images cannot be found")
            return
        }
        let image = URL(fileURLWithPath: mirror).deletingLastPathComponent().appendingPathComponent("images/cat.bmp").path
        try expectAgreement(["image", "classify", image, "--model", "mobilenetv2", "--top", "3", "--format", "json"], cpu: cpu, tolerance: 1e-4)
        try expectAgreement(["image", "classify", image, "--model", "mobilenetv2", "--top", "1", "--precision", "int8", "--format", "json"],
                            cpu: cpu, tolerance: 0, absolute: 0.05)
    }
}
