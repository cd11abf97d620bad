/// ImageNet-1k's classes as WordNet synsets in the standard output order (`n01440764` tench first), named by
/// WordNet's lemmas (`tench, Tinca tinca`): the ILSVRC 2012 class list, read from timm's copies on PyPI.
public enum ImageNetLabels {
    static let timm = (package: "timm", version: "1.0.31", folder: "timm/data/_info")

    /// The 1000 synset IDs, one per line, in class order.
    public static let synsets = WeightFile(
        path: "imagenet/imagenet_synsets.txt", format: "txt",
        source: .pypi(package: timm.package, version: timm.version, member: "\(timm.folder)/imagenet_synsets.txt"),
        sha256: "70002b0ff5de60a3a17a82dbfcff291931f96225ddf941ad2e182fc39e183d15", size: 10_000, license: "Apache-2.0")
    /// `ID<TAB>lemmas` for every ImageNet-21k synset.
    public static let lemmas = WeightFile(
        path: "imagenet/imagenet_synset_to_lemma.txt", format: "txt",
        source: .pypi(package: timm.package, version: timm.version, member: "\(timm.folder)/imagenet_synset_to_lemma.txt"),
        sha256: "1b8babda187421a4bde0c9c5a197c36f6bdda962f7ca11ffb2813806cbb2178f", size: 741_457, license: "Apache-2.0")

    /// The 1000 classes, or 1001 with a `background` class first (TF Lite's MobileNets).
    public static func labels(background: Bool = false) -> ImageLabels {
        ImageLabels(file: synsets, layout: .synsets(names: lemmas), background: background)
    }
}
