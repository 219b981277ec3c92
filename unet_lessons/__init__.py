"""unet_lessons: the U-Net of a diffusion model, one lesson per module.

==================  ===========================  ==========================================
module              notebook                     teaches
==================  ===========================  ==========================================
resblock            01_resblocks.ipynb           ResBlock, Downsample, Upsample
time_embedding      02_time_embedding.ipynb      sinusoidal embedding and its MLP
attention           03_attention.ipynb           self-attention over pixels
unet                04_assembly.ipynb            Encoder, Bottleneck, Decoder, UNet
configs             05_configs.ipynb             UNetConfig, validation, presets
diffusers_port      05_configs.ipynb             reading diffusers' UNet2DModel into ours
init                06_init.ipynb                initialize_weights, the zero output layer
training            07_does_it_learn.ipynb       noise schedule, loss, training loop, label dropout, EMA
sampling            07, 08_it_generates.ipynb    ancestral sampler, DDIM, classifier-free guidance
quality             08, 09                       a classifier's accuracy and Frechet distance on samples
course_files        08, 09                       the shipped course model, classifier and images, checked
recipe              09_train_your_own.ipynb      training targets, times, weights, schedules; a resumable trainer
analysis            (all)                        parameters, shape traces, FLOPs, memory
data                01-04, 07-09                 a real photo (matplotlib's sample); Fashion-MNIST's files
==================  ===========================  ==========================================

``viz/`` holds the figure builders and the explorers; ``exercises/`` the self-checks, one module per lesson.
"""

from unet_lessons.attention import AttentionBlock
from unet_lessons.configs import PRESETS, UNetConfig
from unet_lessons.init import initialize_weights
from unet_lessons.resblock import Downsample, ResBlock, Upsample
from unet_lessons.time_embedding import TimeEmbedding, sinusoidal_embedding
from unet_lessons.unet import UNet

__all__ = [
    "AttentionBlock", "Downsample", "PRESETS", "ResBlock", "TimeEmbedding", "UNet", "UNetConfig",
    "Upsample", "initialize_weights", "sinusoidal_embedding",
]
