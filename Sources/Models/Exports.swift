// Weight files are part of every network's description: `import Models` brings WeightFile and WeightStore.
@_exported import WeightFiles
