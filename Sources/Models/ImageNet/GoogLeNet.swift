/// GoogLeNet (Szegedy et al. 2014) as BVLC trained it in Caffe, MATLAB's `googlenet`: local response normalisation, no
/// batch normalisation, 7.0 M parameters; and the same network trained on Places365's 365 scene classes (Zhou et al.
/// 2017), MATLAB's `googlenet('Weights','places365')`. Each is its Caffe deploy definition with its official
/// `.caffemodel`, read by the Caffe importer; layer names are the definition's (`inception_4a/output`, `pool5/7x7_s1`).
public enum GoogLeNet {
    static let imageNetDefinition = WeightFile(
        path: "bvlc_googlenet/deploy.prototxt", format: "caffe-prototxt",
        source: .url("https://raw.githubusercontent.com/BVLC/caffe/master/models/bvlc_googlenet/deploy.prototxt"),
        sha256: "fa36cd4112a3240a29600a5aa35333f31bec33daa1a6085b0af308a9f50f0c50", size: 35_862, license: "BSD-2-Clause")
    // BVLC's model zoo releases its weights "for unrestricted use".
    static let imageNetWeights = WeightFile(
        path: "bvlc_googlenet/bvlc_googlenet.caffemodel", format: "caffemodel",
        source: .url("http://dl.caffe.berkeleyvision.org/bvlc_googlenet.caffemodel"), license: "unrestricted (BVLC model zoo)")

    static let placesDefinition = WeightFile(
        path: "googlenet_places365/deploy_googlenet_places365.prototxt", format: "caffe-prototxt",
        source: .url("https://raw.githubusercontent.com/CSAILVision/places365/master/deploy_googlenet_places365.prototxt"),
        sha256: "4d116282e2e8a6ef32e32a7453505c041d58c30368eaaff3663fab5d6e5e5b4e", size: 35_847, license: "MIT")
    static let placesWeights = WeightFile(
        path: "googlenet_places365/googlenet_places365.caffemodel", format: "caffemodel",
        source: .url("http://places2.csail.mit.edu/models_places365/googlenet_places365.caffemodel"), license: "MIT")
    /// `/a/airfield 0` … `/z/zen_garden 364`.
    public static let placesCategories = WeightFile(
        path: "googlenet_places365/categories_places365.txt", format: "txt",
        source: .url("https://raw.githubusercontent.com/CSAILVision/places365/master/categories_places365.txt"),
        sha256: "2affba635eb657e7ca95f4e6cc69bd9fac29ef4c32aeb83cafdfcd06ec6a1ea6", size: 6_833, license: "MIT")

    /// `/a/airfield 2`: each category indoor (1) or outdoor (2).
    public static let placesIndoorOutdoor = WeightFile(
        path: "googlenet_places365/IO_places365.txt", format: "txt",
        source: .url("https://raw.githubusercontent.com/CSAILVision/places365/master/IO_places365.txt"),
        sha256: "0a65ceb7264413a15bb069a87be7ecf9ebb572a6803d48de2827a1d25fe287ba", size: 6_214, license: "MIT")

    public static let descriptor = NetworkDescriptor.caffe(
        "googlenet", depth: 22, sizeMB: 27, parametersMillions: 7.0, definition: imageNetDefinition, weights: imageNetWeights,
        classifier: ImageClassifierOutput(preprocessing: .caffe(size: 224), outputsProbabilities: true))
        .citing(top1: 68.7, "the BVLC model zoo's bvlc_googlenet README (centre crop)")

    // Places' own mean file (places365CNN_mean.binaryproto) is not published beside the definition and is not
    // reachable here; Caffe's ImageNet mean pixel stands in for it.
    public static let places365 = NetworkDescriptor.caffe(
        "googlenet-places365", depth: 22, sizeMB: 25.4, parametersMillions: 6.35, definition: placesDefinition, weights: placesWeights,
        classifier: ImageClassifierOutput(preprocessing: .caffe(size: 224), labels: ImageLabels(file: placesCategories, layout: .indexedPaths),
                                          outputsProbabilities: true,
                                          groups: ClassGroups(file: placesIndoorOutdoor, title: "environment", names: [1: "indoor", 2: "outdoor"])))
}
