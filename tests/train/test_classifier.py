"""EmotionClassifier: the inference API contract, the shipped checkpoints (default, lite and webcam), and broken
checkpoints."""

from __future__ import annotations

import json
import logging
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from ferbot import CLASS_NAMES, EmotionClassifier
from ferbot.classify import checkpoint
from ferbot.classify.checkpoint import CARD_JSON, CheckpointError, shipped_checkpoint_dir, shipped_models
from ferbot.classify.classifier import FACES_PER_DEVICE
from ferbot.classify.model import flops_per_face


@pytest.mark.parametrize("n", [0, 1, 5, 50, 130])
def test_predict_proba_contract(default_classifier, fer2013, n):
    faces = fer2013.test.images[:n]
    probs = default_classifier.predict_proba(faces)
    assert probs.shape == (n, 7) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert default_classifier.class_names == CLASS_NAMES
    # batching and padding change no face's result, nor which row it lands in
    in_sevens = [default_classifier.predict_proba(faces[i:i + 7]) for i in range(0, n, 7)]
    np.testing.assert_allclose(np.concatenate([np.empty((0, 7)), *in_sevens]), probs, atol=1e-5)


def test_new_batch_sizes_do_not_recompile(default_classifier, fer2013):
    default_classifier.warmup()
    compiled = default_classifier._forward._cache_size()
    for n in (2, 3, 7, 23, 25, 49, 64, 65):
        default_classifier.predict_proba(fer2013.test.images[:n])
    assert default_classifier._forward._cache_size() == compiled == len(FACES_PER_DEVICE)


def test_closing_the_background_warmup_waits_for_its_compiling_through_a_ctrl_c():
    """A thread left inside XLA's compiler when Python exits aborts the process ("terminate called ... FATAL:
    exception not rethrown"), as a second Ctrl-C in ferbot's first seconds did in 3 of 6 runs of `ferbot --demo
    --sink file:...` (the warmup thread was joined, and the join gave up at the Ctrl-C): a Ctrl-C while closing
    stops the warmup after the bucket under way, which is waited for, and is raised after."""
    classifier = EmotionClassifier.load(model="lite")  # a jit of its own: nothing of it is compiled yet
    warmup = classifier.warmup_in_background()
    ctrl_c = threading.Timer(0.1, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT))
    with pytest.raises(KeyboardInterrupt):  # entered before the signal can come
        ctrl_c.start()  # a real signal, which wakes a waiting thread as Ctrl-C does; tracing alone takes longer
        warmup.close()
    compiled = classifier._forward._cache_size()
    time.sleep(1.0)
    assert classifier._forward._cache_size() == compiled < len(FACES_PER_DEVICE)  # stopped, and nothing compiles on


def test_rejects_wrongly_shaped_faces_saying_how_to_crop_them(default_classifier):
    """Crops of different sizes in one list gave numpy's own error about inhomogeneous shapes, and a single crop
    or a colour picture said only which shape was expected."""
    crop = np.zeros((48, 48), np.uint8)
    for faces, got in [(np.zeros((2, 64, 64), np.uint8), r"\(2, 64, 64\)"),
                       (crop, r"\(48, 48\) \(one face: faces\[None\]\)"),
                       (np.zeros((480, 640, 3), np.uint8), r"\(480, 640, 3\)"),
                       ([crop, np.zeros((64, 64), np.uint8)], "crops of different shapes")]:
        with pytest.raises(ValueError, match=rf"expected faces shaped \(N, 48, 48\), got {got}; crop faces with "
                                             r"ferbot.detect.face_crops"):
            default_classifier.predict_proba(faces)


@pytest.mark.parametrize("model", ["webcam", "lite"])
def test_a_shipped_models_name_given_as_a_path_says_to_pass_model(model):
    with pytest.raises(CheckpointError, match=f"no checkpoint folder '{model}': for the shipped {model} classifier, "
                                              f"pass model='{model}'"):
        EmotionClassifier.load(model)


def test_rejects_faces_that_are_not_uint8_with_the_conversion_their_values_need(default_classifier, fer2013):
    """Crops scaled to [0, 1], as many FER loaders give them, were cut to black and read with confidence; crops of
    0-255 as floats were told to be multiplied by 255 as well, which takes accuracy from 67% to 39%."""
    faces = fer2013.test.images[:4]
    with pytest.raises(ValueError, match=r"got float64; convert crops in \[0, 1\] with \(faces \* 255\)"):
        default_classifier.predict_proba(faces / 255.0)
    with pytest.raises(ValueError, match=r"got float32; convert crops in \[0, 255\] with np.clip\(faces, 0, 255\)"):
        default_classifier.predict_proba(faces.astype(np.float32))


@pytest.mark.parametrize("model", sorted(shipped_models()))
def test_shipped_models_match_their_model_cards(model, fer2013):
    """Each shipped checkpoint, run now on PrivateTest, gives the accuracy and the FER+ agreement its card reports
    (so the promises read from the cards below are measured ones)."""
    from train.targets import ferplus_agreement

    classifier = EmotionClassifier.load(model=model)
    card = classifier.card
    test = fer2013.test
    probabilities = classifier.predict_proba(test.images)
    accuracy = (probabilities.argmax(1) == test.labels).mean()
    reported = card["metrics"]["PrivateTest"]["none"]
    assert accuracy == pytest.approx(reported["accuracy"], abs=1e-3)
    assert accuracy > 0.5
    if test.ferplus is not None:  # the npz carries the votes (CI's does)
        agreement = ferplus_agreement(probabilities, test.ferplus)["accuracy"]
        assert agreement == pytest.approx(reported["ferplus_agreement"]["accuracy"], abs=1e-3)
    assert card["data"]["fingerprint"]["test"] == test.fingerprint()
    network, _ = checkpoint.load_checkpoint(shipped_checkpoint_dir(model))
    network.eval()
    assert card["architecture"]["flops_per_face"] == pytest.approx(flops_per_face(network), rel=1e-3)


def test_the_lite_model_keeps_its_promise():
    """checkpoints/LITE: at most 1/4 of the default's FLOPs per face, at the README's PrivateTest accuracy (67.5%
    or better; the goal of 70% is not reached yet) and within 3.5 points of the default's."""
    shipped = shipped_models()
    lite, default = (checkpoint.read_card(shipped[m]) for m in ("lite", "default"))
    assert lite["architecture"]["flops_per_face"] <= default["architecture"]["flops_per_face"] / 4
    accuracy = {m: card["metrics"]["PrivateTest"]["none"]["accuracy"] for m, card in (("lite", lite),
                                                                                      ("default", default))}
    assert accuracy["lite"] >= 0.675 and accuracy["default"] - accuracy["lite"] <= 0.035


def test_the_webcam_model_keeps_its_promise():
    """checkpoints/WEBCAM: the default's network (no more FLOPs per face), agreeing with the FER+ crowd's majority
    on >= 75% of PrivateTest."""
    shipped = shipped_models()
    webcam, default = (checkpoint.read_card(shipped[m]) for m in ("webcam", "default"))
    assert webcam["architecture"]["flops_per_face"] <= default["architecture"]["flops_per_face"]
    assert webcam["metrics"]["PrivateTest"]["none"]["ferplus_agreement"]["accuracy"] >= 0.75


def test_the_webcam_model_reads_calm_webcam_faces_as_calm(default_classifier):
    """Real photographs of calm faces (the repository's own, labelled by eye in benchmarks/calm_faces.py) in webcam
    views through the bot's finder and crop: the webcam model reads far fewer of them as a difficult state than the
    default does."""
    from benchmarks.calm_faces import CALM, EXPRESSIONS, difficult_reads, face_crops_in_views
    from ferbot.detect import FaceFinder

    with FaceFinder() as finder:
        crops, owners, _ = face_crops_in_views(finder, seeds=1, shared=None)
    crops = np.stack(crops)[[EXPRESSIONS[i] == CALM for i in owners]]
    webcam, _ = difficult_reads(EmotionClassifier.load(model="webcam"), crops, flip=False)
    default, _ = difficult_reads(default_classifier, crops, flip=False)
    assert len(crops) >= 150
    assert webcam.mean() <= 0.15 and webcam.mean() <= default.mean() / 2


@pytest.mark.ferplus
def test_the_webcam_model_still_reads_clear_difficult_faces(fer2013):
    """FER2013 PrivateTest faces whose label and FER+ crowd majority agree on a difficult state (angry, fear, sad,
    surprise) still read as difficult with the webcam model."""
    from benchmarks.calm_faces import DIFFICULT_INDEX
    from train.targets import ferplus_majority

    test = fer2013.test
    clear = np.isin(test.labels, DIFFICULT_INDEX) & (ferplus_majority(test.ferplus) == test.labels)
    predicted = EmotionClassifier.load(model="webcam").predict_proba(test.images[clear]).argmax(axis=1)
    assert clear.sum() > 500 and np.isin(predicted, DIFFICULT_INDEX).mean() >= 0.9


def test_a_model_that_is_not_shipped_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "CHECKPOINTS_DIR", tmp_path / "checkpoints")
    monkeypatch.setattr(checkpoint, "PACKAGED_DIR", tmp_path / "_checkpoints")
    with pytest.raises(CheckpointError, match=r"no lite checkpoint: .* --config lite --promote-to lite"):
        EmotionClassifier.load(model="lite")
    assert shipped_models() == {}


def test_batch_norm_folding_matches_conv_then_batch_norm(fer2013):
    """Evaluation folds batch norm into the convolutions and pools before the ReLU; every block must give what the
    textbook conv -> BN -> ReLU (-> flax max-pool) gives."""
    import jax
    from flax import nnx

    from ferbot.classify.checkpoint import load_checkpoint
    from ferbot.classify.model import standardize

    model, _ = load_checkpoint(shipped_checkpoint_dir())
    model.eval()
    x = standardize(fer2013.test.images[:32])
    for block in model.blocks:
        folded = block(x)
        reference = jax.nn.relu(block.norm(block.conv(x)))
        if block.pool:
            reference = nnx.max_pool(reference, (2, 2), strides=(2, 2))
        np.testing.assert_allclose(folded, reference, rtol=1e-4, atol=1e-4 * float(np.abs(reference).max()))
        assert float((np.asarray(folded) > 0).mean()) > 0.05  # a live block, not an all-zero comparison
        x = folded


@pytest.fixture
def checkpoint_copy(tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(shipped_checkpoint_dir(), target)
    return target


def test_a_checkpoint_is_found_by_name_by_checkpoints_name_and_under_home_from_any_folder(tmp_path, monkeypatch):
    """README's `EmotionClassifier.load("checkpoints/NAME")` worked only from the checkout's root, and "~/ck" was
    read as a folder named ~; an unknown shipped model was a bare KeyError."""
    shutil.copytree(checkpoint.CHECKPOINTS_DIR / "fer-lite", tmp_path / "ck")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    loaded = [EmotionClassifier.load(given).card for given in ("checkpoints/fer-lite", "fer-lite", "~/ck")]
    assert [card["name"] for card in loaded] == ["fer-lite"] * 3
    with pytest.raises(CheckpointError, match=f"{tmp_path}/nowhere is not a ferbot checkpoint"):
        EmotionClassifier.load("~/nowhere")
    with pytest.raises(ValueError, match="no shipped model 'LITE': the shipped ones are default, lite, webcam"):
        EmotionClassifier.load(model="LITE")


def test_missing_model_card_is_a_clear_error(checkpoint_copy):
    (checkpoint_copy / CARD_JSON).unlink()
    with pytest.raises(CheckpointError, match="not a ferbot checkpoint"):
        EmotionClassifier.load(checkpoint_copy)


def test_corrupt_weights_are_a_clear_error(checkpoint_copy):
    for f in (checkpoint_copy / "weights").rglob("*"):
        if f.is_file() and f.parent.name == "d":
            f.write_bytes(b"\0" * 64)
    with pytest.raises(CheckpointError, match="corrupt"):
        EmotionClassifier.load(checkpoint_copy)


def test_card_that_does_not_match_the_weights_is_a_clear_error(checkpoint_copy):
    card = json.loads((checkpoint_copy / CARD_JSON).read_text())
    card["architecture"]["config"]["widths"] = [8, 8, 8, 8]
    (checkpoint_copy / CARD_JSON).write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="does not match"):
        EmotionClassifier.load(checkpoint_copy)


@pytest.mark.parametrize("names", [["Happy", "Angry", "Disgust", "Fear", "Sad", "Surprise", "Neutral"], None])
def test_a_card_that_names_the_classes_in_another_order_is_a_clear_error(checkpoint_copy, names):
    """The weights' outputs are read in FER2013's order: a card listing the classes otherwise (a hand-edited or
    foreign checkpoint) loaded silently, and every face would have been labelled with another emotion's name."""
    card = json.loads((checkpoint_copy / CARD_JSON).read_text())
    card["class_names"] = names
    (checkpoint_copy / CARD_JSON).write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="in that order"):
        EmotionClassifier.load(checkpoint_copy)


def test_an_export_to_a_full_disk_is_one_line_that_says_to_free_space(tmp_path):
    """Files limited to 20 kB (writes fail with EFBIG, as on a full disk), in a child process, four exports: each one
    CheckpointError that says to free space, and none of the late "Event loop is closed" tracebacks of TensorStore's
    writes (they came in most exports, not all); an unrelated error that Python cannot raise still shows."""
    script = (
        "import resource\n"
        "from ferbot.classify.checkpoint import CheckpointError, load_checkpoint, save_checkpoint, "
        "shipped_checkpoint_dir\n"
        "model, card = load_checkpoint(shipped_checkpoint_dir('lite'))\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))\n"
        "for attempt in range(4):\n"
        "    try:\n"
        f"        save_checkpoint({str(tmp_path)!r} + f'/export{{attempt}}', model, card)\n"
        "    except CheckpointError as err:\n"
        "        print(err)\n"
        "class Unrelated:\n"
        "    def __del__(self):\n"
        "        raise RuntimeError('Event loop is closed')\n"
        "Unrelated()\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                            cwd=checkpoint.CHECKPOINTS_DIR.parent)
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 4, result.stdout + result.stderr[-3000:]
    assert all(re.search(r"^cannot write .*export\d/weights .*: free some space and run the same command again$",
                         line) for line in lines), lines
    assert result.stderr.count("Traceback") == 1 and "in __del__" in result.stderr, result.stderr[-3000:]


def test_a_failed_saves_unawaited_writes_log_at_debug_level_and_other_lost_task_errors_still_show(tmp_path, caplog):
    """When a save fails, Orbax raises its first write's error; the other writes' errors, never awaited, reach
    asyncio's logger as "Task exception was never retrieved", or "_GatheringFuture exception ..." for writes
    gathered together, once they are collected (rarely: one CI run, 2 of about 340 full-disk exports here, and 2 of
    9 full-disk training runs, so the full-disk tests cannot be relied on to see it). A coroutine in a folder named
    orbax fails as they do, alone and gathered, and so does one here: the first two are logged at debug level, the
    third still as an error."""
    import asyncio
    import gc
    import importlib.util

    (tmp_path / "orbax").mkdir()
    (tmp_path / "orbax" / "late_write.py").write_text(
        "async def write():\n    raise ValueError('Failed to write 638759 bytes to file 4: File too large')\n")
    spec = importlib.util.spec_from_file_location("late_write", tmp_path / "orbax" / "late_write.py")
    orbax_like = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(orbax_like)

    async def unrelated():
        raise ValueError("an error nobody awaited")

    with checkpoint.orbax_quiet():  # what every save and load goes through
        pass
    gc.collect()  # earlier tests' lost tasks (a corrupt checkpoint's reads) are logged now, not among this test's
    caplog.clear()

    async def start(coroutine, gathered: bool) -> asyncio.Future:
        return asyncio.gather(coroutine) if gathered else asyncio.ensure_future(coroutine)

    loop = asyncio.new_event_loop()
    caplog.set_level(logging.DEBUG)
    for coroutine, gathered in ((orbax_like.write(), False), (orbax_like.write(), True), (unrelated(), False)):
        future = loop.run_until_complete(start(coroutine, gathered))
        loop.run_until_complete(asyncio.wait([future]))
        del future
        gc.collect()
    loop.close()
    lost = [(record.name, record.levelno) for record in caplog.records if "never retrieved" in record.getMessage()]
    assert lost == [("asyncio", logging.ERROR)], caplog.text
    assert "unrelated" in caplog.text and "an error nobody awaited" in caplog.text
    quieted = [record for record in caplog.records if record.name == checkpoint.__name__
               and record.levelno == logging.DEBUG and "File too large" in record.getMessage()]
    assert len(quieted) == 2, caplog.text


def test_max_pool_matches_flax_in_value_and_gradient(fer2013):
    """The model's 2x2 max-pool, with its own gradient, equals flax's on the shipped model's first feature maps of
    real faces (before the ReLU, as the model pools), and so does the gradient of the first layer's kernel
    through it."""
    import jax
    from flax import nnx

    from ferbot.classify.checkpoint import load_checkpoint
    from ferbot.classify.model import conv_3x3, max_pool_2x2, standardize

    model, _ = load_checkpoint(shipped_checkpoint_dir())
    model.eval()
    first, faces = model.blocks[0], standardize(fer2013.test.images[:16])
    weights = jax.random.normal(jax.random.key(0), (16, 24, 24, first.conv.out_features))

    def loss(pool):
        def of_kernel(kernel):
            x = conv_3x3(faces, kernel)
            return (nnx.relu(pool(first.norm(x))) * weights).sum()
        return of_kernel

    flax_pool = lambda x: nnx.max_pool(x, (2, 2), strides=(2, 2))  # noqa: E731
    features = first.norm(first.conv(faces))
    np.testing.assert_array_equal(max_pool_2x2(features), flax_pool(features))
    kernel = first.conv.kernel[...]
    np.testing.assert_allclose(jax.grad(loss(max_pool_2x2))(kernel), jax.grad(loss(flax_pool))(kernel), rtol=1e-4,
                               atol=1e-3)


def test_max_pool_gradient_follows_flax_where_maxima_tie(fer2013):
    """Raw FER2013 pixels tie often within a 2x2 window (flat or saturated patches); there the model's pooling
    gradient must go where flax's goes, to each window's first maximum, not be shared or duplicated."""
    import jax
    from flax import nnx

    from ferbot.classify.model import max_pool_2x2

    pixels = np.asarray(fer2013.test.images[:64], np.float32)[..., None]
    windows = pixels.reshape(64, 24, 2, 24, 2, 1)
    ties = ((windows == windows.max(axis=(2, 4), keepdims=True)).sum(axis=(2, 4)) > 1).mean()
    assert ties > 0.05  # the case under test is common in real faces
    upstream = jax.random.normal(jax.random.key(0), (64, 24, 24, 1))
    flax_pool = lambda x: nnx.max_pool(x, (2, 2), strides=(2, 2))  # noqa: E731
    ours = jax.vjp(max_pool_2x2, pixels)[1](upstream)[0]
    reference = jax.vjp(flax_pool, pixels)[1](upstream)[0]
    np.testing.assert_array_equal(ours, reference)


def test_the_kernel_gradient_is_sliced_where_compiled_for_a_cpu_only():
    """Lowered for a CPU, the kernel gradient of 20 faces at 48x48 is seven convolutions (slices of 3 and a last one
    of 2); lowered for a GPU, it is XLA's one over the whole batch, whatever JAX's default backend."""
    import jax
    import jax.numpy as jnp

    from ferbot.classify.model import kernel_gradient

    traced = jax.jit(kernel_gradient).trace(jnp.ones((20, 48, 48, 8)), jnp.ones((3, 3, 8, 16)),
                                            jnp.ones((20, 48, 48, 16)))
    def convolutions(platform: str) -> int:
        return traced.lower(lowering_platforms=(platform,)).as_text().count("stablehlo.convolution")
    assert convolutions("cpu") == 7 and convolutions("cuda") == 1


def test_the_trained_convolution_has_xlas_gradients_with_the_kernels_summed_over_slices(fer2013):
    """The convolution the model trains with gives XLA's own input and kernel gradients, its kernel gradient summed
    over slices of the batch (20 real faces: slices of 3 and a last one of 2 at 48x48, of 14 and 6 at 24x24), on
    the shipped model's feature maps."""
    import jax

    from ferbot.classify.checkpoint import load_checkpoint
    from ferbot.classify.model import KERNEL_GRADIENT_POSITIONS, conv_3x3, standardize, trained_conv_3x3

    model, _ = load_checkpoint(shipped_checkpoint_dir())
    model.eval()
    x = standardize(fer2013.test.images[:20])
    assert 20 % (KERNEL_GRADIENT_POSITIONS // (48 * 48)) and 20 % (KERNEL_GRADIENT_POSITIONS // (24 * 24))
    for block in model.blocks[:4]:  # the 48x48 and 24x24 layers
        kernel = block.conv.kernel[...]
        upstream = jax.random.normal(jax.random.key(0), conv_3x3(x, kernel).shape)
        ours = jax.vjp(trained_conv_3x3, x, kernel)[1](upstream)
        xla = jax.vjp(conv_3x3, x, kernel)[1](upstream)
        for gradient, reference in zip(ours, xla, strict=True):
            np.testing.assert_allclose(gradient, reference, rtol=1e-4, atol=1e-4 * float(np.abs(reference).max()))
        x = block(x)
