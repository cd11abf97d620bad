/// A raw pointer that may cross into worker threads; callers guarantee disjoint access.
public struct SharedPointer<Element>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Element>
    public init(_ base: UnsafeMutablePointer<Element>) { self.base = base }
}

/// A read-only raw pointer that may cross into worker threads.
public struct SharedReadPointer<Element>: @unchecked Sendable {
    public let base: UnsafePointer<Element>
    public init(_ base: UnsafePointer<Element>) { self.base = base }
}
