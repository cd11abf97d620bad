/// ImageNet's class names as the TF Lite hosted models list them: `background` and then the 1000 classes.
public enum ImageNetLabels {
    public static let file = WeightFile(path: "mobilenet_v2/imagenet_labels.txt", format: "txt", source: .mirrorOnly,
                                        sha256: "b8aaeb5630c62626a7d124a05c0e14230a7ffdd2136a31d0190a4fb71c1d82f1",
                                        size: 21_686, license: "Apache-2.0")
}
