/// Pooling's backward pass over the same windows as the forward pass: a maximum passes its window's gradient to the
/// first position holding it (in scan order, as PyTorch's CPU kernel picks), an average shares it over the window's
/// divisor.
extension Pool2D: Backpropagating {
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        let input = inputs[0]
        let (batch, height, width, channels) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let h = axis(height, kernel.height, stride.y, 0), w = axis(width, kernel.width, stride.x, 1)
        let (kh, kw, sy, sx) = (kernel.height, kernel.width, stride.y, stride.x)
        var inputGradient = [Float](repeating: 0, count: input.count)
        input.scalars.withUnsafeBufferPointer { x in
            outputGradient.scalars.withUnsafeBufferPointer { dy in
                inputGradient.withUnsafeMutableBufferPointer { dxBuffer in
                    let source = SharedReadPointer(x.baseAddress!), gradient = SharedReadPointer(dy.baseAddress!)
                    let dx = SharedPointer(dxBuffer.baseAddress!)
                    Parallel.forEach(batch) { image in
                        for oy in 0..<h.output {
                            let y0 = oy * sy - h.before, y1 = min(y0 + kh, h.paddedEnd), validY = max(y0, 0)..<min(y1, height)
                            for ox in 0..<w.output {
                                let x0 = ox * sx - w.before, x1 = min(x0 + kw, w.paddedEnd), validX = max(x0, 0)..<min(x1, width)
                                let d = gradient.base + ((image * h.output + oy) * w.output + ox) * channels
                                let offset = { (iy: Int, ix: Int) in ((image * height + iy) * width + ix) * channels }
                                if kind == .max {
                                    for c in 0..<channels {
                                        var best = -Float.infinity, at = -1
                                        for iy in validY {
                                            for ix in validX where source.base[offset(iy, ix) + c] > best || at < 0 {
                                                best = source.base[offset(iy, ix) + c]
                                                at = offset(iy, ix) + c
                                            }
                                        }
                                        if at >= 0 { dx.base[at] += d[c] }
                                    }
                                } else {
                                    let area = countIncludesPadding ? (y1 - y0) * (x1 - x0) : validY.count * validX.count
                                    let share = 1 / Float(max(area, 1))
                                    for iy in validY {
                                        for ix in validX {
                                            let target = dx.base + offset(iy, ix)
                                            for c in 0..<channels { target[c] += d[c] * share }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return LayerGradients(inputs: [Tensor(shape: input.shape, scalars: inputGradient)])
    }
}

/// Every position of a channel receives `1/positions` of its mean's gradient.
extension GlobalAveragePool: Backpropagating {
    public func backward(inputs: [Tensor], output: Tensor, outputGradient: Tensor) -> LayerGradients {
        let input = inputs[0], batch = input.shape[0], channels = input.shape.last!
        let positions = input.count / max(batch * channels, 1), share = 1 / Float(max(positions, 1))
        let gradient = Tensor(shape: input.shape) { dx in
            outputGradient.scalars.withUnsafeBufferPointer { dy in
                for image in 0..<batch {
                    for position in 0..<positions {
                        let target = (image * positions + position) * channels
                        for c in 0..<channels { dx[target + c] = dy[image * channels + c] * share }
                    }
                }
            }
        }
        return LayerGradients(inputs: [gradient])
    }
}
