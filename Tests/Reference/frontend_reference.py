"""Float64 NumPy rendering of the AudioSet log-mel front ends.

yamnet: research/audioset/yamnet/features.py (pad_waveform, tf.signal.stft with a periodic Hann window,
        tf.signal.linear_to_mel_weight_matrix, log(mel + 0.001), patches of 96 frames every 48).
vggish: research/audioset/vggish/vggish_input.py + mel_features.py (same STFT and mel matrix,
        log(mel + 0.01), non-overlapping 96-frame examples, no padding — except that a clip shorter than one
        example is padded with zeros to one, as pad_waveform pads it: AudioNet's rule, where vggish_input emits none).
Patch hops other than the defaults follow yamnet's `patch_hop_seconds` (pad_waveform and the framing both use it).
"""
import numpy as np

SAMPLE_RATE = 16000
WINDOW = 400      # round(16000 * 0.025)
HOP = 160         # round(16000 * 0.010)
FFT = 512         # 2 ** ceil(log2(400))
BANDS = 64
LOW_HZ, HIGH_HZ = 125.0, 7500.0


def hertz_to_mel(hz):
    return 1127.0 * np.log(1.0 + hz / 700.0)


def mel_matrix(bins=FFT // 2 + 1):
    """tf.signal.linear_to_mel_weight_matrix with the DC bin zeroed (bands_to_zero=1)."""
    linear = np.linspace(0.0, SAMPLE_RATE / 2, bins)[1:]
    mel = hertz_to_mel(linear)[:, None]
    edges = np.linspace(hertz_to_mel(LOW_HZ), hertz_to_mel(HIGH_HZ), BANDS + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    weights = np.maximum(0.0, np.minimum((mel - lower) / (center - lower), (upper - mel) / (upper - center)))
    return np.pad(weights, [[1, 0], [0, 0]])


def pad_waveform(x, patch_frames=96, patch_hop=48):
    """features.pad_waveform."""
    minimum = int((0.96 + 0.025 - 0.010) * SAMPLE_RATE)  # 15600
    hop = patch_hop * HOP                                # 7680
    n = max(len(x), minimum)
    hops = int(np.ceil((n - minimum) / hop))
    return np.pad(x, [0, minimum + hops * hop - len(x)])


def log_mel(x, offset):
    frames = 1 + (len(x) - WINDOW) // HOP if len(x) >= WINDOW else 0
    index = np.arange(WINDOW)[None, :] + HOP * np.arange(frames)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WINDOW) / WINDOW)  # periodic Hann
    magnitude = np.abs(np.fft.rfft(x[index] * window, FFT))
    return np.log(magnitude @ mel_matrix() + offset)


def patches(frames, length, hop):
    count = 1 + (len(frames) - length) // hop if len(frames) >= length else 0
    return np.stack([frames[i * hop:i * hop + length] for i in range(count)]) if count else np.zeros((0, length, BANDS))


def yamnet_patches(x, patch_hop=48):
    return patches(log_mel(pad_waveform(np.asarray(x, np.float64), patch_hop=patch_hop), 0.001), 96, patch_hop)


def vggish_examples(x, patch_hop=96):
    x = np.asarray(x, np.float64)
    minimum = int((0.96 + 0.025 - 0.010) * SAMPLE_RATE)
    return patches(log_mel(np.pad(x, [0, max(0, minimum - len(x))]), 0.01), 96, patch_hop)
