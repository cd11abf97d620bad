"""Pitch decoding fixtures: torchcrepe's decoders, voicing threshold and median filter on its own probabilities.

Run from the repository root in the reference venv (torchcrepe 0.0.24):
    python Tests/Reference/make_pitch_decoding_fixtures.py
torchcrepe computes the full model's probabilities for 2 s of Samples/speech-between-silences.wav (1.9–3.9 s: speech
and a pause; its own framing, hop 160, centred) and decodes them; AudioNet's decoders run on the same probabilities
(Tests/CREPETests/PitchDecodingTests.swift). Writes Tests/Fixtures/crepe/decoding.npz:
  probabilities     [200, 360] torchcrepe.infer's sigmoid outputs
  argmax_bins       decode.argmax's bins (all 360)
  range_bins        decode.argmax's bins after postprocess's fmin 100 Hz, fmax 400 Hz mask
  weighted_hz       decode.weighted_argmax's pitch (torchcrepe dithers each bin's cents by a seeded ±20-cent
                    triangle noise and applies a second sigmoid, so AudioNet's marl/crepe average differs by cents)
  viterbi_bins      decode.viterbi's bins (librosa's Viterbi on the softmax of the probabilities)
  periodicity       the probability at the argmax bin
  median3, median5  filter.median(periodicity, 3 / 5)
  pitch_at_half     threshold.At(0.5)(argmax pitch, periodicity): NaN where unvoiced
  pitch_hysteresis  threshold.Hysteresis()(argmax pitch, periodicity): its defaults 0.19 and 0.31
  pitch_hysteresis_strict   the same with bounds 0.3 and 0.9 (runs that never pass 0.9 are dropped)
"""
import os
import sys
import types

import numpy as np
import soundfile
import torch

sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))  # torchcrepe imports it only to load audio
import torchcrepe  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def main():
    np.random.seed(0)  # torchcrepe's dither draws from NumPy's generator
    audio, rate = soundfile.read(os.path.join(ROOT, "Samples", "speech-between-silences.wav"), dtype="float32")
    assert rate == 16000
    audio = torch.from_numpy(audio[int(1.9 * rate):int(3.9 * rate)])[None]
    frames = next(torchcrepe.preprocess(audio, rate, hop_length=160, batch_size=None))
    with torch.no_grad():
        probabilities = torchcrepe.infer(frames, model="full").reshape(1, -1, 360).transpose(1, 2)  # [1, 360, T]
    argmax_bins, argmax_hz = torchcrepe.decode.argmax(probabilities.clone())
    range_bins, _ = torchcrepe.decode.argmax(masked(probabilities, 100.0, 400.0))
    _, weighted_hz = torchcrepe.decode.weighted_argmax(probabilities.clone())
    viterbi_bins, _ = torchcrepe.decode.viterbi(probabilities.clone())
    periodicity = probabilities.gather(1, argmax_bins[:, None]).squeeze(1)
    arrays = {
        "probabilities": probabilities[0].T.numpy(),
        "argmax_bins": argmax_bins[0].numpy().astype(np.int64),
        "range_bins": range_bins[0].numpy().astype(np.int64),
        "weighted_hz": weighted_hz[0].numpy().astype(np.float64),
        "viterbi_bins": viterbi_bins[0].numpy().astype(np.int64),
        "periodicity": periodicity[0].numpy(),
        "median3": torchcrepe.filter.median(periodicity, 3)[0].numpy(),
        "median5": torchcrepe.filter.median(periodicity, 5)[0].numpy(),
        "pitch_at_half": torchcrepe.threshold.At(0.5)(argmax_hz, periodicity)[0].numpy().astype(np.float64),
        "pitch_hysteresis": torchcrepe.threshold.Hysteresis()(argmax_hz, periodicity)[0].numpy().astype(np.float64),
        "pitch_hysteresis_strict": torchcrepe.threshold.Hysteresis(0.3, 0.9)(argmax_hz, periodicity)[0].numpy().astype(np.float64),
    }
    out = os.path.join(ROOT, "Tests", "Fixtures", "crepe", "decoding.npz")
    np.savez(out, **{k: np.ascontiguousarray(v) for k, v in arrays.items()})
    print(out, {k: v.shape for k, v in arrays.items()}, "voiced", int(np.isfinite(arrays["pitch_at_half"]).sum()),
          "by hysteresis", int(np.isfinite(arrays["pitch_hysteresis"]).sum()), int(np.isfinite(arrays["pitch_hysteresis_strict"]).sum()))


def masked(probabilities, fmin, fmax):
    """postprocess's range mask: bins below fmin's (floor) and from fmax's (ceil) on set to −inf."""
    result = probabilities.clone()
    low = torchcrepe.convert.frequency_to_bins(torch.tensor(fmin))
    high = torchcrepe.convert.frequency_to_bins(torch.tensor(fmax), torch.ceil)
    result[:, :low] = -float("inf")
    result[:, high:] = -float("inf")
    return result


if __name__ == "__main__":
    main()
