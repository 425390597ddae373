"""A classifier for live classes: the default's network and schedule, trained towards the FER+ crowd's votes and
on faces made to look like webcam video.

Half of each training target is the FER+ vote distribution (ten annotators per face; FER2013's single labels read
many neutral faces as sad), and half of the faces are softened, dimmed, made noisy and JPEG-compressed, tilted up
to 20 degrees as by a camera above or below the screen, and a fifth given the frames of glasses
(train/augment.py). `python -m benchmarks.calm_faces` measures what this buys on real webcam-like faces; it costs
accuracy against FER2013's own labels (README, "The shipped classifiers").
"""

import dataclasses

from train.config import AugmentConfig, TrainConfig

CONFIG = dataclasses.replace(TrainConfig(), ferplus_weight=0.5,
                             augment=AugmentConfig(webcam=0.5, pitch_deg=20.0, glasses=0.2))
