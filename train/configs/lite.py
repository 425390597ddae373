"""A lite classifier for slow laptops: under a quarter of the default's FLOPs per face, distilled from it.

Widths 16/32/72/144 and a 128-unit dense head (60 MFLOP per face against the default's 266, by XLA's cost
analysis; 0.53 M parameters), trained like the default for 100 epochs, with half of each training target taken
from the shipped default's flip-TTA predictions (`fer-vgg-w320-e100`, the teacher).
"""

import dataclasses

from ferbot.classify.model import ModelConfig
from train.config import TrainConfig

CONFIG = dataclasses.replace(TrainConfig(), model=ModelConfig(widths=(16, 32, 72, 144), dense=128),
                             teachers=("fer-vgg-w320-e100",), teacher_weight=0.5)
