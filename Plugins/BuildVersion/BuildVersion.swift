import Foundation
import PackagePlugin

/// Writes `BuildVersion.swift` with the checkout's git commit (`git describe --always --dirty`, or `unknown` outside a
/// checkout) before every build, for `audionet --version`. The file is rewritten only when the commit changes, so
/// an unchanged checkout does not recompile.
@main
struct BuildVersion: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "Generated")
        let file = output.appending(path: "BuildVersion.swift").path
        let script = """
            commit=$(git -C "$0" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
            text="let buildCommit = \\"$commit\\""
            mkdir -p "$(dirname "$1")"
            [ "$(cat "$1" 2>/dev/null)" = "$text" ] || printf '%s\\n' "$text" > "$1"
            """
        return [.prebuildCommand(displayName: "Recording the git commit for --version", executable: URL(fileURLWithPath: "/bin/sh"),
                                 arguments: ["-c", script, context.package.directoryURL.path, file], outputFilesDirectory: output)]
    }
}
