// `import AudioNet` is enough to use the task types: the engine's types they take and return (Tensor,
// Network, Precision), the model definitions they name (OpenL3.Configuration, CREPE.Capacity), the file
// formats (NPY, TFLiteModel, PyTorchStateDict…), audio and image decoding (AudioFileReader, RGBImage), the
// front ends (LogMelFrontEnd), the plots (Canvas, Axes) and the file helpers that keep outputs from overwriting inputs (OutputFile,
// RegularFile) come with it. The audionet command imports this module alone.
@_exported import AudioIO
@_exported import DSP
@_exported import Formats
@_exported import ImageIO
@_exported import Models
@_exported import NetCore
@_exported import Platform
@_exported import Plots
@_exported import WeightFiles
