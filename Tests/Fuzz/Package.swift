// swift-tools-version:6.0
// libFuzzer harnesses for AudioNet's parsers of untrusted files. Built only with `swift build --sanitize=fuzzer`
// (libFuzzer supplies `main`); `make fuzz` builds and runs them. See README.md beside this file.
import PackageDescription

let package = Package(
    name: "AudioNetFuzz",
    dependencies: [.package(name: "AudioNet", path: "../..")],
    targets: [
        .executableTarget(name: "audionet-fuzz", dependencies: [.product(name: "AudioNet", package: "AudioNet")]),
    ]
)
