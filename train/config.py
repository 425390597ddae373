"""Training hyper-parameters: one config object, every field overridable from the command line.

Named recipes (instances of TrainConfig) live in train/configs/; TrainConfig's defaults are the `default` recipe.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing

from ferbot.classify.model import ModelConfig


class ConfigError(ValueError):
    """Options or hyper-parameters that cannot run (on this data, these devices); the message says what to pass."""


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    """Augmentation applied on device inside the jitted train step."""

    flip: bool = True
    rotate_deg: float = 15.0  # uniform in [-rotate_deg, rotate_deg]
    scale: float = 0.15  # zoom factor uniform in [1 - scale, 1 + scale]
    shift: float = 0.1  # translation as a fraction of the image side
    erase_prob: float = 0.5  # random erasing of one rectangle (2-20% of the image)
    contrast: float = 0.2  # brightness/contrast jitter amplitude (the model's standardisation undoes it but clipping)
    # Webcam-like changes (train/augment.py), off in the shipped recipes until measured to help:
    pitch_deg: float = 0.0  # the face tilted about its horizontal axis by up to this (a camera above or below)
    glasses: float = 0.0  # share of faces given the frames of a pair of glasses
    webcam: float = 0.0  # share of faces softened, dimmed, made noisy and JPEG-compressed like a video call


NO_AUGMENTATION = AugmentConfig(flip=False, rotate_deg=0.0, scale=0.0, shift=0.0, erase_prob=0.0, contrast=0.0)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run's result (recorded in the run folder and the model card).

    A new field needs a default that does what the code did before it: run folders saved without the field
    resume as if it held its default (train/run_folder.py).
    """

    model: ModelConfig = ModelConfig()
    augment: AugmentConfig = AugmentConfig()
    seed: int = 0
    epochs: int = 100
    batch_size: int = 128
    optimizer: typing.Literal["adamw", "sgd"] = "adamw"  # sgd: Nesterov momentum 0.9
    lr: float = 1e-3  # peak learning rate, reached after the warm-up
    warmup_epochs: float = 1.0
    # After the warm-up, "cosine" decays the learning rate to zero at the last step; "plateau" holds it and
    # multiplies it by plateau_factor whenever PublicTest accuracy has not improved for plateau_patience epochs
    # (optax.contrib.reduce_on_plateau).
    schedule: typing.Literal["cosine", "plateau"] = "cosine"
    plateau_patience: int = 5
    plateau_factor: float = 0.1
    weight_decay: float = 0.05  # AdamW: decoupled; SGD: an L2 term added to the gradient. Kernels only
    label_smoothing: float = 0.1
    # Class weights proportional to (1 / class frequency) ** power, normalised to mean 1 over the
    # training set: 0 ignores the imbalance, 1 fully rebalances it (see README, "Class imbalance").
    class_weight_power: float = 0.5
    # Share of the training target given to the FER+ crowd's vote distribution (train/targets.py); 0: FER2013's
    # labels alone.
    ferplus_weight: float = 0.0
    # Distillation: share of the training target given to the averaged, flip-TTA predictions of these exported
    # checkpoints (folder paths or names in checkpoints/), computed once per run on Training (train/teachers.py).
    teachers: tuple[str, ...] = ()
    teacher_weight: float = 0.0
    # An exponential moving average of the weights (decay per step; 0: none) is what is validated and exported.
    ema_decay: float = 0.0
    # Warm the average up: at step t its decay is min(ema_decay, (1 + t) / (10 + t)), so the initial weights do not
    # linger in it (at 0.999 they still weigh 80% after 224 steps without); off in runs from before it existed.
    ema_warmup: bool = False
    # Fine-tuning: start from this exported checkpoint's weights and batch-norm statistics (a folder path or a name
    # in checkpoints/; its architecture must be `model`) instead of seed's initialisation; "": from scratch.
    init: str = ""
    eval_batch_size: int = 500

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


_NESTED = {"model": ModelConfig, "augment": AugmentConfig}


# Each config field's flag (nested fields flattened): its metavar (None for on/off and choice flags, whose values
# argparse shows) and its help (argparse's: %% for a percent sign). add_config_args reads the help from here alone;
# a test checks that every field has one.
FLAG_HELP: dict[str, tuple[str | None, str]] = {
    "seed": ("N", "random seed of the initial weights, the order of the Training images and the augmentation"),
    "epochs": ("N", "passes over the Training images, each in a new order; the few left over after the last whole "
                    "batch sit that epoch out"),
    "batch_size": ("N", "Training images per step (split over the devices)"),
    "optimizer": (None, "adamw, or sgd with Nesterov momentum 0.9 (which needs an L2 --weight-decay such as 5e-4)"),
    "lr": ("RATE", "peak learning rate, reached at the end of the warm-up"),
    "warmup_epochs": ("EPOCHS", "epochs over which the learning rate rises linearly from 0 to --lr"),
    "schedule": (None, "after the warm-up: cosine decays the learning rate to 0 by the last step; plateau holds it "
                       "and cuts it by --plateau-factor whenever PublicTest accuracy stalls"),
    "plateau_patience": ("EPOCHS", "--schedule plateau: epochs without a better PublicTest accuracy before a cut"),
    "plateau_factor": ("F", "--schedule plateau: what each cut multiplies the learning rate by"),
    "weight_decay": ("W", "weight decay of the kernels: decoupled with adamw, an L2 term of the gradient with sgd"),
    "label_smoothing": ("S", "share of each FER2013 label spread evenly over the seven classes"),
    "class_weight_power": ("P", "loss weight of each class (1 / its frequency) ** P, mean 1: 0 ignores the class "
                                "imbalance, 1 fully rebalances it"),
    "ferplus_weight": ("W", "share of each training target taken from the FER+ crowd's votes (the npz or "
                            "--ferplus has them); 0: FER2013's labels alone"),
    "teachers": ("CKPT,...", "exported checkpoints (folders or names in checkpoints/) to distil from: their "
                             "averaged flip-TTA predictions on Training"),
    "teacher_weight": ("W", "share of each training target taken from the --teachers' predictions"),
    "ema_decay": ("D", "validate and export an exponential moving average of the weights with this decay per "
                       "step; 0: none"),
    "ema_warmup": (None, "warm the moving average up: decay min(D, (1 + t) / (10 + t)) at step t"),
    "init": ("CKPT", "fine-tune: start from this exported checkpoint (a folder or a name in checkpoints/, of the "
                     "recipe's architecture) instead of fresh weights"),
    "eval_batch_size": ("N", "PublicTest images per batch when validating after each epoch"),
    "widths": ("C,...", "channels of each stage, one to four stages (each halves the face's side)"),
    "convs_per_stage": ("N", "3x3 convolutions (each with batch norm and ReLU) per stage"),
    "dense": ("UNITS", "units of the dense layer before the output"),
    "dropout": ("P", "dropout rate after the dense layer, in training"),
    "num_classes": ("N", "output classes: FER2013's seven emotions (no other value trains)"),
    "squeeze_excite": ("R", "squeeze-and-excitation after each stage, its bottleneck R times narrower; 0: none"),
    "flip": (None, "mirror half the faces, at random"),
    "rotate_deg": ("DEG", "turn each face by a random angle of up to DEG degrees either way"),
    "scale": ("S", "zoom each face by a random factor between 1 - S and 1 + S"),
    "shift": ("S", "move each face by up to this share of its side, each way"),
    "erase_prob": ("P", "share of faces with one random rectangle (2-20%% of the face) replaced by noise"),
    "contrast": ("A", "lighting jitter: contrast scaled by a random factor between 1 - A and 1 + A, brightness "
                      "shifted by up to A x 128 grey levels (the model standardises each face, which undoes this "
                      "but where it clips at 0 or 255)"),
    "pitch_deg": ("DEG", "tilt faces about their horizontal axis by up to DEG degrees, as a camera above or below "
                         "the screen does"),
    "glasses": ("P", "share of faces given the frames of a pair of glasses"),
    "webcam": ("P", "share of faces blurred, dimmed, made noisy and JPEG-compressed, as in a video call"),
}


def add_config_args(parser: argparse.ArgumentParser, shown: TrainConfig) -> None:
    """Add one --flag per config field (nested fields flattened), its help from FLAG_HELP; a flag not given (None)
    keeps the recipe's value.

    The help shows `shown`'s values: those of the default recipe.
    """
    for group_name, cls in [("training", TrainConfig), *_NESTED.items()]:
        values = shown if cls is TrainConfig else getattr(shown, group_name)
        group = parser.add_argument_group(
            f"{group_name} hyper-parameters",
            "Each flag overrides one field of the --config recipe; in parentheses, the default recipe's value."
            if cls is TrainConfig else None)
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):
            if field.name not in _NESTED:
                _add_field_flag(group, field.name, hints[field.name], getattr(values, field.name))


def flag_of(field: str) -> str:
    """The command-line flag of a config field, by its name or its dotted path: "augment.max_shift" is
    --max-shift."""
    return "--" + field.rsplit(".", 1)[-1].replace("_", "-")


def _add_field_flag(group: argparse._ArgumentGroup, name: str, hint, shown_value) -> None:
    """The --flag of one config field, parsed as its type says (a switch for a bool, comma-separated values for a
    tuple, a choice for a Literal); not given, it is None."""
    metavar, text = FLAG_HELP.get(name, (None, ""))
    flag, help_ = flag_of(name), f"{text} ({_shown(shown_value)})".lstrip()
    if hint is bool:
        group.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_)
    elif typing.get_origin(hint) is tuple:
        of_ints = typing.get_args(hint)[0] is int
        group.add_argument(flag, type=_int_tuple if of_ints else _str_tuple, default=None, metavar=metavar,
                           help=help_)
    elif typing.get_origin(hint) is typing.Literal:
        group.add_argument(flag, choices=typing.get_args(hint), default=None, help=help_)
    else:
        group.add_argument(flag, type=hint, default=None, metavar=metavar, help=help_)


def _shown(value) -> str:
    """A recipe's value as the help shows it: tuples comma-separated, nothing as "none"."""
    if isinstance(value, tuple):
        value = ",".join(map(str, value))
    return "none" if value == "" else str(value)


# What each number of a config may be, as an interval: "[" and "]" include the bound, "(" and ")" leave it out.
_RANGES = {
    "epochs": "[1, inf)", "batch_size": "[1, inf)", "eval_batch_size": "[1, inf)", "lr": "(0, inf)",
    "warmup_epochs": "[0, inf)", "plateau_patience": "[1, inf)", "plateau_factor": "(0, 1)",
    "weight_decay": "[0, inf)", "label_smoothing": "[0, 1)", "class_weight_power": "[0, inf)",
    "ferplus_weight": "[0, 1]", "teacher_weight": "[0, 1]", "ema_decay": "[0, 1)",
    "convs_per_stage": "[1, inf)", "dense": "[1, inf)", "dropout": "[0, 1)", "num_classes": "[7, 7]",
    "squeeze_excite": "[0, inf)", "seed": "[0, 4294967295]",  # JAX keys take 32 bits: larger seeds wrap
    "rotate_deg": "[0, 180]", "scale": "[0, 1)", "shift": "[0, 1)", "erase_prob": "[0, 1]", "contrast": "[0, 1)",
    "pitch_deg": "[0, 60]", "glasses": "[0, 1]", "webcam": "[0, 1]",
}


_MAX_STAGES = 4  # 48 -> 24 -> 12 -> 6 -> 3: a fifth stage could not halve an odd side
_MAX_SGD_L2 = 0.01  # SGD's usual L2 is 5e-4; the recipes' 0.05 is AdamW's decoupled decay


def check_config(cfg: TrainConfig) -> None:
    """Raise ConfigError, naming the flag, for a hyper-parameter outside what can train (one of its choices;
    _RANGES; one to four stages of widths at least 1; teachers without a weight; SGD with AdamW's weight
    decay)."""
    _check_choices(cfg)
    values = {**dataclasses.asdict(cfg.model), **dataclasses.asdict(cfg.augment), **cfg.to_dict()}
    for name, interval in _RANGES.items():
        if not _within(values[name], interval):
            raise ConfigError(f"{flag_of(name)} must lie in {interval}, got {values[name]}")
    if not 1 <= len(cfg.model.widths) <= _MAX_STAGES or min(cfg.model.widths) < 1:
        raise ConfigError(f"--widths needs one to {_MAX_STAGES} widths (one per stage, each stage halves the face) "
                          f"of at least 1, got {cfg.model.widths}")
    if cfg.teachers and not cfg.teacher_weight:
        raise ConfigError("--teachers are distilled from only with --teacher-weight above 0 (the share of each "
                          "target they give): pass it too, e.g. --teacher-weight 0.5")
    if cfg.optimizer == "sgd" and cfg.weight_decay > _MAX_SGD_L2:
        raise ConfigError(f"--optimizer sgd adds --weight-decay to the gradient as L2, where {cfg.weight_decay} "
                          "(AdamW's decoupled scale) would swamp it: pass --weight-decay too, e.g. 5e-4")


def _check_choices(cfg: TrainConfig) -> None:
    """ConfigError for a field with a fixed set of choices (a Literal) set to another value, as a recipe file
    could (the flags offer only the choices)."""
    for cls, values in ((TrainConfig, cfg), *((c, getattr(cfg, name)) for name, c in _NESTED.items())):
        for name, hint in typing.get_type_hints(cls).items():
            choices = typing.get_args(hint) if typing.get_origin(hint) is typing.Literal else None
            if choices and getattr(values, name) not in choices:
                raise ConfigError(f"{flag_of(name)} must be one of {', '.join(choices)}, got "
                                  f"{getattr(values, name)!r}")


def _within(value: float, interval: str) -> bool:
    low, high = (float(bound) for bound in interval[1:-1].split(","))
    above = value >= low if interval[0] == "[" else value > low
    below = value <= high if interval[-1] == "]" else value < high
    return bool(above and below)  # NaN is in no interval


def config_from_args(args: argparse.Namespace, base: TrainConfig) -> TrainConfig:
    """`base` (a recipe) with the fields that the user gave a flag for replaced by the flag's value; ConfigError
    for a value that cannot train (check_config)."""
    nested = {}
    for name, cls in _NESTED.items():
        changes = _given(args, cls)
        nested[name] = dataclasses.replace(getattr(base, name), **changes)
    cfg = dataclasses.replace(base, **_given(args, TrainConfig, skip=set(_NESTED)), **nested)
    check_config(cfg)
    return cfg


def _given(args, cls, skip=frozenset()) -> dict:
    values = {}
    for field in dataclasses.fields(cls):
        if field.name not in skip and getattr(args, field.name, None) is not None:
            values[field.name] = getattr(args, field.name)
    return values


def _str_tuple(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


def _int_tuple(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
