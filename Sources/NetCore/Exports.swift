// Tensor, Parallel, CPU and the other foundation types are part of the engine's API: `import NetCore` brings them.
@_exported import Base
