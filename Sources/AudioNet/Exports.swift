// `import AudioNet` is enough to use the task types: the engine's types they take and return (Tensor,
// Network, Precision), the model definitions they name (OpenL3.Configuration, CREPE.Capacity) and the
// file helpers that keep outputs from overwriting inputs (OutputFile, RegularFile) and the decoded image
// type (RGBImage) come with it.
@_exported import ImageIO
@_exported import Models
@_exported import NetCore
@_exported import Platform
