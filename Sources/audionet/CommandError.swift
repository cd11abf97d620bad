/// An error of the command's own checks: printed as one line (`Error: …`), exit status 1, without the usage
/// text ArgumentParser adds to a `ValidationError`.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
