/// Networks of MATLAB's catalog that AudioNet does not build yet: their catalog facts only (depth, size in MB,
/// parameters in millions, input side). Each moves to its own file, with its builder, when it is built.
public enum NotYetBuilt {
    public static let nasNetMobile = NetworkDescriptor.catalogOnly("nasnetmobile", depth: nil, sizeMB: 20, parametersMillions: 5.3, side: 224)
    public static let nasNetLarge = NetworkDescriptor.catalogOnly("nasnetlarge", depth: nil, sizeMB: 332, parametersMillions: 88.9, side: 331)
}
