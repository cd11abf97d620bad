import Foundation
import WeightFiles

extension TestSupport {
    /// Label files with the given names and texts in a new folder, unchecked (no SHA-256), and a store that finds them.
    public static func labelFiles(_ contents: KeyValuePairs<String, String>) throws -> (files: [WeightFile], store: WeightStore) {
        let folder = temporaryDirectory()
        let files = try contents.map { name, text in
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
            return WeightFile(path: name, format: "txt", source: .mirrorOnly, license: "test")
        }
        return (files, WeightStore(userDirectory: folder.path, cacheDirectory: nil, mirrorDirectory: nil))
    }

    /// One label file with `text`, and a store that finds it.
    public static func labelFile(_ text: String) throws -> (file: WeightFile, store: WeightStore) {
        let (files, store) = try labelFiles(["labels.txt": text])
        return (files[0], store)
    }
}
