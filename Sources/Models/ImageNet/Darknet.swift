import Formats

/// Darknet-19 (Redmon & Farhadi 2017, YOLO9000's classifier: 3×3 convolutions with 1×1 bottlenecks, five max pools)
/// and Darknet-53 (Redmon & Farhadi 2018, YOLOv3's backbone: strided 3×3 convolutions and 23 residual shortcuts),
/// MATLAB's `darknet19` and `darknet53`: Darknet's own `.cfg` definitions with their `.weights`, read by the Darknet
/// reader. Every convolution is batch-normalised with a leaky ReLU (slope 0.1), the classifier a 1×1 convolution to
/// 1000 classes, global average pool and softmax; input RGB scaled to 0…1 at 256×256.
public enum Darknet {
    /// The 1000 outputs' short names in Darknet's order (kit fox first): the first lines of data/imagenet.shortnames.list.
    public static let labels = WeightFile(
        path: "darknet/imagenet1k.names.txt", format: "txt",
        source: .url("https://raw.githubusercontent.com/pjreddie/darknet/master/data/imagenet.shortnames.list"), license: "YOLO (public domain)")

    static func descriptor(_ name: String, depth: Int, sizeMB: Double, parametersMillions: Double, cfgSHA256: String, cfgSize: Int) -> NetworkDescriptor {
        let cfg = WeightFile(path: "darknet/\(name).cfg", format: "darknet-cfg",
                             source: .url("https://raw.githubusercontent.com/pjreddie/darknet/master/cfg/\(name).cfg"),
                             sha256: cfgSHA256, size: cfgSize, license: "YOLO (public domain)")
        let weights = WeightFile(path: "darknet/\(name).weights", format: "darknet-weights",
                                 source: .url("https://pjreddie.com/media/files/\(name).weights"), license: "YOLO (public domain)")
        return NetworkDescriptor(
            name: name, task: .imageClassification, depth: depth, sizeMB: sizeMB, parametersMillions: parametersMillions,
            inputSize: [256, 256, 3], files: [weights, cfg],
            architecture: { _, store in try DarknetModel(cfg: store.locate(cfg), weights: nil).network() },
            load: { _, store, path in try DarknetModel(cfg: store.locate(cfg), weights: store.locate(weights, explicit: path)).network() },
            imageClassifier: ImageClassifierOutput(preprocessing: ImagePreprocessing(size: 256, mean: 0, std: 255),
                                                   labels: ImageLabels(file: labels, layout: .lines(count: 1000)), outputsProbabilities: true))
    }

    public static let darknet19 = descriptor("darknet19", depth: 19, sizeMB: 78, parametersMillions: 20.8,
                                             cfgSHA256: "7ac495cfb9f37c780ae5ea451dda4754ec147ae9820fa14b2fdd52f8e6426971", cfgSize: 2_076)
        .citing(top1: 72.9, "pjreddie.com/darknet/imagenet (Darknet19, 256²)")
    public static let darknet53 = descriptor("darknet53", depth: 53, sizeMB: 155, parametersMillions: 41.6,
                                             cfgSHA256: "06565ce38a061e1443ce942d286791e113fd3fefea58c57c1d5e5ebafdbd76d6", cfgSize: 5_815)
        .citing(top1: 77.2, "pjreddie.com/darknet/imagenet (Darknet53, 256²)")
}
