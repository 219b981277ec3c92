"""How good are the samples? A small classifier scores them two ways.

Taught in ``notebooks/08_it_generates.ipynb``. The :class:`Classifier` is trained on the lesson's real images
(:func:`train_classifier`) and then:

- **class accuracy** (:func:`class_accuracy`): the share of images it labels as the class they were
  generated for; its accuracy on real held-out images is the ceiling;
- **Fréchet distance** (:func:`frechet_distance`): the distance between two Gaussians fitted to its
  penultimate features of real and of generated images (the FID recipe of Heusel et al. 2017, with this
  classifier's features in place of Inception's), computed by torchmetrics' ``FrechetInceptionDistance``.
  Held-out real images against the training images give the floor a perfect generator would reach.
"""

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance


class Classifier(nn.Module):
    """Three conv stages (each two 3x3 convs and a 2x2 max-pool), a feature layer, and class logits.

    Args:
        in_channels: image channels.
        image_size: height and width; a multiple of 8.
        num_classes: classes to tell apart.
        width: channels of the first stage (doubled at each of the next two).
        num_features: size of the penultimate layer, the features the Fréchet distance compares.
    """

    def __init__(self, in_channels: int = 1, image_size: int = 32, num_classes: int = 10, width: int = 32,
                 num_features: int = 128):
        super().__init__()
        if image_size % 8:
            raise ValueError(f"image_size={image_size}: three 2x2 poolings need a multiple of 8.")
        self.in_channels, self.image_size, self.num_features = in_channels, image_size, num_features
        stages, channels = [], in_channels
        for stage_width in (width, 2 * width, 4 * width):
            stages += [nn.Conv2d(channels, stage_width, 3, padding=1), nn.ReLU(),
                       nn.Conv2d(stage_width, stage_width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            channels = stage_width
        self.stages = nn.Sequential(*stages)  # [B, C, S, S] -> [B, 4w, S/8, S/8]
        self.feature_layer = nn.Linear(channels * (image_size // 8) ** 2, num_features)
        self.head = nn.Linear(num_features, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """x: [B, in_channels, S, S] in [-1, 1] -> penultimate features [B, num_features]."""
        self.check_images(x)
        return F.relu(self.feature_layer(self.stages(x).flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [B, in_channels, S, S] in [-1, 1] -> class logits [B, num_classes]."""
        return self.head(self.features(x))

    def check_images(self, x) -> None:
        expected = [self.in_channels, self.image_size, self.image_size]
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or list(x.shape[1:]) != expected:
            got = list(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"images must be [batch, {', '.join(map(str, expected))}] for this classifier; got {got}.")


class _Features(nn.Module):
    """The classifier's features as torchmetrics wants a custom extractor: ``num_features`` and a forward."""

    def __init__(self, classifier: Classifier):
        super().__init__()
        self.classifier, self.num_features = classifier, classifier.num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier.features(x)


def _check_labels(images: torch.Tensor, labels: torch.Tensor, num_classes: int) -> None:
    if not isinstance(labels, torch.Tensor) or labels.shape != (len(images),) or labels.dtype.is_floating_point:
        got = f"{list(labels.shape)} {labels.dtype}" if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ValueError(f"labels must be [{len(images)}] integer labels, one per image; got {got}.")
    if len(labels) and not bool(((labels >= 0) & (labels < num_classes)).all()):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}; got {sorted(set(labels.tolist()))}.")


def train_classifier(classifier: Classifier, images: torch.Tensor, labels: torch.Tensor, steps: int,
                     batch_size: int = 128, lr: float = 1e-3, seed: int = 0) -> list[float]:
    """Train ``classifier`` in place with Adam and cross-entropy on random batches; returns every step's loss."""
    classifier.check_images(images)
    _check_labels(images, labels, classifier.head.out_features)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(classifier.parameters(), lr=lr)
    classifier.train()
    history = []
    for _ in range(steps):
        chosen = torch.randint(0, len(images), (batch_size,), generator=generator)
        loss = F.cross_entropy(classifier(images[chosen]), labels[chosen])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    classifier.eval()
    return history


@torch.no_grad()
def predict(classifier: Classifier, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """The class the classifier gives each image: [N] labels."""
    classifier.check_images(images)
    classifier.eval()
    return torch.cat([classifier(images[i:i + batch_size]).argmax(1) for i in range(0, len(images), batch_size)])


def class_accuracy(classifier: Classifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    """The share of ``images`` the classifier labels as ``labels`` (for samples: the class asked for)."""
    _check_labels(images, labels, classifier.head.out_features)
    return (predict(classifier, images) == labels).float().mean().item()


def per_class_accuracy(predicted: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """[num_classes]: for each class, the share of its images (by ``labels``: for samples, the class asked for)
    that were ``predicted`` as it; NaN for a class with no image."""
    if not isinstance(predicted, torch.Tensor) or not isinstance(labels, torch.Tensor) \
            or predicted.shape != labels.shape or labels.dim() != 1:
        raise ValueError("predicted and labels: two [N] tensors of class indices, one per image.")
    hits = torch.zeros(num_classes).index_add_(0, labels, (predicted == labels).float())
    return hits / torch.bincount(labels, minlength=num_classes).float()


@torch.no_grad()
def frechet_reference(classifier: Classifier, real: torch.Tensor, batch_size: int = 256) -> FrechetInceptionDistance:
    """torchmetrics' metric holding the classifier's features of ``real``: give it to :func:`frechet_distance` as
    ``real`` to score many generated sets against one reference without computing its features again."""
    classifier.check_images(real)
    if len(real) < 2:
        raise ValueError(f"real: a Fréchet distance needs at least 2 images per set; got {len(real)}.")
    classifier.eval()
    metric = FrechetInceptionDistance(feature=_Features(classifier), normalize=True, reset_real_features=False)
    for i in range(0, len(real), batch_size):
        metric.update(real[i:i + batch_size], real=True)
    return metric


@torch.no_grad()
def frechet_distance(classifier: Classifier, real: torch.Tensor | FrechetInceptionDistance, generated: torch.Tensor,
                     batch_size: int = 256) -> float:
    """The Fréchet distance between the classifier's features of ``real`` and of ``generated`` images.

    Both sets need at least 2 images, and more than ``num_features`` for a well-determined covariance (a
    few thousand for a stable value). torchmetrics accumulates the features' sums in float64. ``real`` may be
    a :func:`frechet_reference` of the same classifier.
    """
    classifier.check_images(generated)
    if len(generated) < 2:
        raise ValueError(f"generated: a Fréchet distance needs at least 2 images per set; got {len(generated)}.")
    metric = real if isinstance(real, FrechetInceptionDistance) else frechet_reference(classifier, real, batch_size)
    if metric.inception.classifier is not classifier:
        raise ValueError("real: this reference holds another classifier's features; make it with "
                         "frechet_reference(classifier, images) for the classifier you score with.")
    metric.reset()  # forgets generated features only (reset_real_features=False)
    for i in range(0, len(generated), batch_size):
        metric.update(generated[i:i + batch_size], real=False)
    return metric.compute().item()


TRAINING_CHUNK = 10_000  # training images compared at once by nearest_training_images


@torch.no_grad()
def nearest_training_images(images: torch.Tensor, training_images: torch.Tensor,
                            batch_size: int = 250) -> tuple[torch.Tensor, torch.Tensor]:
    """Did it copy? Each image's nearest training image by L2 distance on pixels (both in [-1, 1]).

    Compare a model's samples with held-out real images: a model that memorised its data draws samples much
    nearer to a training image than real images it never saw are.

    images: [N, C, H, W], training_images: [M, C, H, W] -> (distances [N], indices [N] into training_images).
    """
    for name, given in (("images", images), ("training_images", training_images)):
        if not isinstance(given, torch.Tensor) or given.dim() != 4 or not given.dtype.is_floating_point:
            got = f"{given.dtype} {list(given.shape)}" if isinstance(given, torch.Tensor) else type(given).__name__
            raise ValueError(f"{name} must be a float tensor [N, channels, height, width]; got {got}.")
    if images.shape[1:] != training_images.shape[1:] or len(training_images) == 0:
        raise ValueError(f"images {list(images.shape[1:])} and training_images {list(training_images.shape[1:])} must "
                         "have the same channels, height and width (crop 32x32 samples to 28x28 with data.crop_to(samples, 28)).")
    distances, indices = [], []
    for i in range(0, len(images), batch_size):
        batch = images[i:i + batch_size].flatten(1)
        best = torch.full((len(batch),), torch.inf)
        nearest = torch.zeros(len(batch), dtype=torch.long)
        # the training set in chunks: a view (say, 28x28 crops of 32x32 images) is flattened a chunk at a time
        for start in range(0, len(training_images), TRAINING_CHUNK):
            chunk = training_images[start:start + TRAINING_CHUNK].flatten(1)
            found, where = torch.cdist(batch, chunk).min(dim=1)  # [b, chunk] -> [b]
            better = found < best
            best, nearest = torch.where(better, found, best), torch.where(better, where + start, nearest)
        # cdist's fast matrix-product form loses ~0.03 to rounding; the distance to the one found is exact
        distances.append((batch - training_images[nearest].flatten(1)).norm(dim=1))
        indices.append(nearest)
    return torch.cat(distances), torch.cat(indices)
