/// AlexNet (Krizhevsky et al. 2012) as BVLC trained it in Caffe, MATLAB's `alexnet`: the paper's two towers kept as
/// two groups in conv2, conv4 and conv5, local response normalisation after conv1 and conv2, 227×227 input, 61.0 M
/// parameters. Its Caffe deploy definition with the official `.caffemodel`, read by the Caffe importer.
/// torchvision's single-tower variant is `alexnet-torchvision` (``VGG``).
public enum AlexNet {
    static let definition = WeightFile(
        path: "bvlc_alexnet/deploy.prototxt", format: "caffe-prototxt",
        source: .url("https://raw.githubusercontent.com/BVLC/caffe/master/models/bvlc_alexnet/deploy.prototxt"),
        sha256: "b564ba76416b4ac1e062c6621cbd80d9c19304ba152d9d791c75870f3182c4fa", size: 3_629, license: "BSD-2-Clause")
    // BVLC's model zoo releases its weights "for unrestricted use".
    static let weights = WeightFile(
        path: "bvlc_alexnet/bvlc_alexnet.caffemodel", format: "caffemodel",
        source: .url("http://dl.caffe.berkeleyvision.org/bvlc_alexnet.caffemodel"), license: "unrestricted (BVLC model zoo)")

    public static let descriptor = NetworkDescriptor.caffe(
        "alexnet", depth: 8, sizeMB: 227, parametersMillions: 61.0, definition: definition, weights: weights,
        classifier: ImageClassifierOutput(preprocessing: .caffe(size: 227), outputsProbabilities: true))
        .citing(top1: 57.1, "the BVLC model zoo's bvlc_alexnet README (centre crop)")
}
