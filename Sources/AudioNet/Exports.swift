// `import AudioNet` is enough to use the task types: the engine's types they take and return (Tensor,
// Network, Precision) and the model definitions they name (OpenL3.Configuration, CREPE.Capacity) come with it.
@_exported import Models
@_exported import NetCore
