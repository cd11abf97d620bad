import Foundation
import Platform

/// The AudioSet ontology (`ontology.json`): each class's children, and from them parents and top-level ancestors.
public struct Ontology: Sendable {
    /// Child identifiers by class identifier.
    public let children: [String: [String]]
    /// Parent identifiers by class identifier (a class may have several).
    public let parents: [String: [String]]

    /// Reads `ontology.json`: an array of objects with `id` and `child_ids`.
    public init(path: String) throws {
        guard let data = try? Data(RegularFile.read(path, limit: 1 << 26)),
              let entries = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw LabelFileError.malformed(path: path, reason: "not a JSON array of ontology entries")
        }
        var children: [String: [String]] = [:], parents: [String: [String]] = [:]
        for entry in entries {
            guard let id = entry["id"] as? String else { throw LabelFileError.malformed(path: path, reason: "an entry has no id") }
            let childIDs = entry["child_ids"] as? [String] ?? []
            children[id] = childIDs
            for child in childIDs { parents[child, default: []].append(id) }
        }
        self.children = children
        self.parents = parents
    }

    /// Every ancestor of `id` (parents, their parents…), without `id` itself.
    public func ancestors(of id: String) -> Set<String> {
        var result = Set<String>(), stack = parents[id] ?? []
        while let next = stack.popLast() {
            if result.insert(next).inserted { stack.append(contentsOf: parents[next] ?? []) }
        }
        return result
    }

    /// The top-level categories above `id` (itself when it has no parent).
    public func roots(of id: String) -> Set<String> {
        let candidates = ancestors(of: id).union([id])
        return candidates.filter { (parents[$0] ?? []).isEmpty }
    }
}
