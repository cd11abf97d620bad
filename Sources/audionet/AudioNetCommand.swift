import ArgumentParser

/// The `audionet` command: pretrained audio and image networks from the shell.
@main
struct AudioNetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audionet",
        abstract: "Run pretrained audio and image networks: sound classification, pitch, embeddings, ImageNet.",
        discussion: """
        Weights are looked up in --weights PATH, $AUDIONET_WEIGHTS, the cache (Weights/ of a checkout, \
        else ~/.cache/audionet) and $AUDIONET_WEIGHTS_MIRROR, in that order.
        """,
        version: "audionet 0.1.0",
        subcommands: [ClassifyCommand.self, PitchCommand.self, EmbedCommand.self, SpectrogramCommand.self, RunCommand.self, InfoCommand.self,
                      ImageCommand.self, ModelsCommand.self, WeightsCommand.self]
    )
}
