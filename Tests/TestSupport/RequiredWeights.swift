import Testing

extension TestSupport {
    /// The value of a model load, or a recorded test failure naming what is missing (never a silent skip).
    public static func requireWeights<T>(_ what: String, _ load: Result<T, Error>) throws -> T {
        switch load {
        case .success(let value): return value
        case .failure(let error):
            Issue.record("\(what) weights are not available, so this check cannot run: \(error)")
            throw error
        }
    }
}
