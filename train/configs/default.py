"""The shipped classifier's recipe (checkpoints/fer-vgg-w320-e100): exactly TrainConfig's defaults.

A VGG-style CNN (widths 32/64/160/320, two convolutions per stage, a 256-unit dense head, dropout 0.4) trained for
100 epochs at batch 128 with AdamW (peak learning rate 1e-3 after one warm-up epoch, cosine decay, weight decay
0.05), label smoothing 0.1, class weights (1 / frequency) ** 0.5 and on-device augmentation. The values live once,
as the defaults in train/config.py and ferbot/classify/model.py.
"""

from train.config import TrainConfig

CONFIG = TrainConfig()
