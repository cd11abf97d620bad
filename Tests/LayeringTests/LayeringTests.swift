import Foundation
import Testing

/// The layering DESIGN.md draws, checked on the sources: a target imports only what `Package.swift` declares
/// for it (SwiftPM would let it reach an undeclared module of the package), and the floors stay in order.
@Suite struct LayeringTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Modules of the toolchain and the system, importable everywhere.
    static let system: Set<String> = ["Foundation", "FoundationEssentials", "Glibc", "Dispatch", "Synchronization", "Testing"]

    /// Each target in `Package.swift` with the targets and products it declares, read from its declaration.
    static func declaredDependencies() throws -> [String: Set<String>] {
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let declaration = /\.(?:target|executableTarget|testTarget)\(name: "([^"]+)"(?:, dependencies: \[([^\]]*)\])?/
        var targets: [String: Set<String>] = [:]
        for match in manifest.matches(of: declaration) {
            let names = (match.output.2.map(String.init) ?? "").matches(of: /(?:"|name: ")([A-Za-z]+)"/).map { String($0.output.1) }
            targets[String(match.output.1)] = Set(names)
        }
        return targets
    }

    /// The modules each Swift file of `directory` imports.
    static func imports(under directory: URL) -> [(file: String, module: String)] {
        let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" } ?? []
        return files.flatMap { file in
            ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(separator: "\n")
                .compactMap { $0.firstMatch(of: /^(?:@_exported )?import ([A-Za-z]+)$/) }
                .map { (file.lastPathComponent, String($0.output.1)) }
        }
    }

    @Test func everyImportIsADeclaredDependency() throws {
        let targets = try Self.declaredDependencies()
        #expect(targets.count > 10, "Package.swift's targets were not read: \(targets.keys.sorted())")
        for (target, dependencies) in targets {
            let directory = ["audionet-bench": "Benchmarks/audionet-bench", "TestSupport": "Tests/TestSupport"][target]
                ?? (target.hasSuffix("Tests") ? "Tests/\(target)" : "Sources/\(target)")
            for (file, module) in Self.imports(under: Self.root.appendingPathComponent(directory))
            where !Self.system.contains(module) && module != target {
                #expect(dependencies.contains(module), "\(directory)/\(file) imports \(module), which \(target) does not declare")
            }
        }
    }

    @Test func theFloorsStayInOrder() throws {
        let targets = try Self.declaredDependencies()
        // The foundation and the audio floors never reach up to the network engine.
        for target in ["Base", "CBase", "Platform", "AudioIO", "DSP", "CAudioKernels"] {
            #expect(targets[target]?.isDisjoint(with: ["NetCore", "CKernels", "Formats", "Models", "AudioNet"]) == true,
                    "\(target) depends on \(targets[target].map { $0.sorted() } ?? [])")
        }
        // The command sees the library through AudioNet alone.
        #expect(targets["audionet"] == ["AudioNet", "ArgumentParser"])
    }
}
