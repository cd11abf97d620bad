/// Sizes computed from numbers read out of a file, without trapping: a crafted shape, stride or offset makes
/// them `nil`, and the reader (or the layer that was given them) turns that into an error.
public enum CheckedSize {
    /// The product of `dimensions`, or nil when one is negative or the product overflows.
    public static func elementCount<C: Collection>(_ dimensions: C) -> Int? where C.Element == Int {
        var count = 1
        for dimension in dimensions {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    /// `a · b + c`, or nil on overflow.
    public static func multiplyAdd(_ a: Int, _ b: Int, _ c: Int = 0) -> Int? {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        guard !overflow else { return nil }
        let (sum, carry) = product.addingReportingOverflow(c)
        return carry ? nil : sum
    }
}
