import AudioNet
import Foundation
import TestSupport
import Testing

/// Each plot drawn from real data: the picture has its size, the data's marks are where the data says, and blank
/// where it has none; SVG is written as vectors.
@Suite struct PlotTests {
    let folder = TestSupport.temporaryDirectory()

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// The colour at canvas pixel (`x`, `y`).
    func pixel(_ image: RGBImage, _ x: Double, _ y: Double) -> (red: Int, green: Int, blue: Int) {
        let index = (Int(y) * image.width + Int(x)) * 3
        return (Int(image.pixels[index]), Int(image.pixels[index + 1]), Int(image.pixels[index + 2]))
    }

    func isWhite(_ color: (red: Int, green: Int, blue: Int)) -> Bool { color.red > 245 && color.green > 245 && color.blue > 245 }

    /// Torchcrepe's probabilities of speech and a pause (the decoding fixture), decoded and drawn: a confident
    /// frame's dot is coloured (not grey), the heat map is dark under it, and far above the voice it stays white.
    @Test func pitchPlotDrawsTheConfidentPitchWhereItIs() throws {
        let fixture = try NPZ.read(path: TestSupport.fixture("crepe/decoding.npz"))
        let probabilities = fixture["probabilities"]!
        let activation = Tensor(shape: probabilities.shape, scalars: probabilities.doubles.map { Float($0) })
        let estimator = PitchEstimator(capacity: .tiny, network: Network(inputShape: [1024, 1, 1]))
        let track = try estimator.decode(activation, hop: 160)
        try track.plot(title: "speech", format: .png).write(to: path("pitch.png"))
        let image = try RGBImage(path: path("pitch.png"))
        #expect(image.width == 1100 && image.height == 520)
        let confident = track.confidences.indices.max { track.confidences[$0] < track.confidences[$1] }!
        #expect(track.confidences[confident] > 0.8)
        // The axes the plot draws: frame 90…970 × 40…460, time ± half a hop, 31.6…2033 Hz on a log scale.
        let hop = track.times[1] - track.times[0], start = track.times[0] - hop / 2, end = track.times.last! + hop / 2
        let x = 90 + (track.times[confident] - start) / (end - start) * 880
        let lowest = CREPE.frequency(cents: CREPE.cents(ofBin: 0) - 10), highest = CREPE.frequency(cents: CREPE.cents(ofBin: 359) + 10)
        let y = 40 + (1 - log(track.frequencies[confident] / lowest) / log(highest / lowest)) * 420
        let dot = pixel(image, x, y)
        #expect(!isWhite(dot) && max(dot.red, dot.green, dot.blue) - min(dot.red, dot.green, dot.blue) > 40, "\(dot) at \(x), \(y)")
        let above = pixel(image, x, 40 + (1 - log(1900 / lowest) / log(highest / lowest)) * 420)
        #expect(isWhite(above), "\(above)")
    }

    /// A heat map of 100,000 columns (a long file's frames, past cairo's 32,767-pixel limit) is drawn merged, and one
    /// bright column among them still shows.
    @Test func aVeryWideHeatMapKeepsABriefEvent() throws {
        var values = [Float](repeating: 0, count: 2 * 100_000)
        values[50_000] = 1
        values[100_000 + 50_000] = 1
        let canvas = Canvas(width: 400, height: 100, format: .png)
        canvas.heatmap(values, rows: 2, columns: 100_000, in: Rect(x: 0, y: 0, width: 400, height: 100), colormap: .grayscale, range: 0...1)
        try canvas.write(to: path("wide.png"))
        let image = try RGBImage(path: path("wide.png"))
        let dark = (0..<400).filter { pixel(image, Double($0), 50).red < 100 }
        #expect(!dark.isEmpty && dark.allSatisfy { abs($0 - 200) <= 2 }, "\(dark)")
    }

    /// YAMNet's log-mel frames of speech between silences: the speech (2.1–5.3 s) is bright, the silence before it dark;
    /// the SVG form is an SVG document.
    @Test func spectrogramPlotShowsTheSpeechAndNotTheSilence() throws {
        let audio = try AudioFileReader.readMono(path: TestSupport.repositoryRoot.appendingPathComponent("Samples/speech-between-silences.wav").path,
                                                 sampleRate: 16_000)
        let frontEnd = LogMelFrontEnd.yamnet
        let frames = frontEnd.logMel(audio.samples)
        let canvas = Spectrogram.plot(frames: frames, frontEnd: frontEnd, title: "speech", format: .png)
        try canvas.write(to: path("spectrogram.png"))
        let image = try RGBImage(path: path("spectrogram.png"))
        #expect(image.width == 1100 && image.height == 420)
        let seconds = Double(frames.shape[0] * frontEnd.hopLength) / 16_000
        func brightness(at time: Double) -> Int {
            (0..<20).map { row in let c = pixel(image, 90 + time / seconds * 880, 60 + Double(row) * 14); return c.red + c.green + c.blue }.reduce(0, +) / 20
        }
        #expect(brightness(at: 3.0) > 2 * brightness(at: 1.0), "speech \(brightness(at: 3.0)), silence \(brightness(at: 1.0))")
        try Spectrogram.plot(frames: frames, frontEnd: frontEnd, title: "speech", format: .svg).write(to: path("spectrogram.svg"))
        let svg = try String(contentsOfFile: path("spectrogram.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<?xml") && svg.contains("<svg") && svg.contains("</svg>"))
    }

    /// The classify plot's timeline has the Speech event's bar dark in its row and the Silence row blank at that time.
    @Test func classifyPlotDrawsTheEventsOnTheirRows() throws {
        let classifier = try TestSupport.requireWeights("YAMNet", Result { try SoundClassifier.yamnet() })
        let audio = try AudioFileReader.readMono(path: TestSupport.repositoryRoot.appendingPathComponent("Samples/speech-between-silences.wav").path,
                                                 sampleRate: 16_000)
        let analysis = try classifier.analyze(samples: audio.samples)
        let events = SoundEventDetector(labels: classifier.labels, ontology: nil, options: EventOptions()).events(in: analysis)
        let speech = try #require(events.first { $0.label == "Speech" })
        let frames = LogMelFrontEnd.yamnet.logMel(audio.samples)
        try analysis.plot(frames: frames, frontEnd: .yamnet, labels: classifier.labels.names, events: events, title: "speech", format: .png)
            .write(to: path("classify.png"))
        let image = try RGBImage(path: path("classify.png"))
        #expect(image.width == 1100 && image.height > 500)
        // Scan the column at the middle of the Speech event for the timeline's dark bar near the bottom of the picture.
        let end = max(analysis.duration, Double(frames.shape[0]) * 0.01)
        let column = (0..<image.width).first { !isWhite(pixel(image, Double($0), Double(image.height) - 60)) && $0 > 100 } ?? 0
        let left = Double(column)
        let x = left + (speech.start + speech.end) / 2 / end * (1100 - left - 130)
        let darkRows = (0..<image.height).filter { let c = pixel(image, x, Double($0)); return c.red + c.green + c.blue < 120 }
        #expect(darkRows.contains { $0 > image.height - 120 }, "no dark bar at x \(x)")
    }
}

/// The confusion matrix of `evaluate --plot`.
@Suite struct ConfusionPlotTests {
    /// Ten classes, every file right except two of class 3 taken for class 8: the diagonal cells are bright (viridis
    /// yellow), the empty ones dark, and row 3 shows its split.
    @Test func diagonalCellsAreBrightAndEmptyOnesDark() throws {
        let labels = (0..<10).map { "digit \($0)" }
        var truth: [Int] = [], predicted: [Int] = []
        for label in 0..<10 {
            for file in 0..<10 {
                truth.append(label)
                predicted.append(label == 3 && file < 2 ? 8 : label)
            }
        }
        let evaluation = Evaluation(predicted: predicted, truth: truth, labels: labels)
        let path = TestSupport.temporaryDirectory().appendingPathComponent("confusion.png").path
        try evaluation.plot(title: "digits", format: .png).write(to: path)
        let image = try RGBImage(path: path)
        // The layout evaluate draws: 56-pixel cells (560 / 10) right of the label column.
        let cell = 56.0, left = min(240, 30 + Double("digit 0".count) * 6.5)
        func color(_ row: Int, _ column: Int) -> (Int, Int, Int) {
            // A corner of the cell, clear of the count written in its middle.
            let x = Int(left + Double(column) * cell + 6), y = Int(50 + Double(row) * cell + 6)
            let index = (y * image.width + x) * 3
            return (Int(image.pixels[index]), Int(image.pixels[index + 1]), Int(image.pixels[index + 2]))
        }
        let diagonal = color(5, 5), empty = color(5, 2), split = color(3, 8)
        #expect(diagonal.0 > 200 && diagonal.1 > 200 && diagonal.2 < 100, "diagonal \(diagonal)")  // viridis at 1
        #expect(empty.0 < 90 && empty.1 < 30 && empty.2 > 60, "empty \(empty)")  // viridis at 0
        #expect(split != empty && split != diagonal, "row 3 → 8: \(split)")
    }
}
