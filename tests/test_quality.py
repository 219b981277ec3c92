"""The quality score: a classifier that learns the shapes, its accuracy, and torchmetrics' Fréchet distance."""

import pytest
import torch

from unet_lessons.quality import (Classifier, class_accuracy, frechet_distance, frechet_reference,
                                  nearest_training_images, predict, train_classifier)
from unet_lessons.training import SHAPES, shapes_dataset


@pytest.fixture(scope="module")
def data():
    train_images, train_labels = shapes_dataset(600, 32, seed=0, return_labels=True)
    held_images, held_labels = shapes_dataset(300, 32, seed=1, return_labels=True)
    return train_images, train_labels, held_images, held_labels


@pytest.fixture(scope="module")
def classifier(data):
    torch.manual_seed(0)
    model = Classifier(in_channels=3, image_size=32, num_classes=len(SHAPES), width=8, num_features=32)
    train_classifier(model, data[0], data[1], steps=300, batch_size=64, lr=2e-3)  # held-out 1.0 measured
    return model


def test_shapes_labels_are_balanced_and_match_the_images():
    images, labels = shapes_dataset(300, 16, seed=2, return_labels=True)
    assert torch.equal(images, shapes_dataset(300, 16, seed=2))  # the labels change nothing else
    assert labels.dtype == torch.long and set(labels.tolist()) == {0, 1, 2}
    assert min(torch.bincount(labels).tolist()) > 70  # about 100 of each


def test_the_classifier_learns_the_shapes(classifier, data):
    accuracy = class_accuracy(classifier, data[2], data[3])
    assert accuracy > 0.9, accuracy  # held-out images it never saw
    shuffled = data[3][torch.randperm(len(data[3]), generator=torch.Generator().manual_seed(0))]
    assert class_accuracy(classifier, data[2], shuffled) < 0.6  # wrong labels are counted as wrong
    assert predict(classifier, data[2]).shape == (300,)


def test_frechet_distance_is_zero_for_the_same_images_and_grows_with_damage(classifier, data):
    held = data[2]
    same = frechet_distance(classifier, held, held.clone())
    floor = frechet_distance(classifier, data[0], held)  # real against real: what a perfect generator scores
    noisy = frechet_distance(classifier, data[0], (held + 0.5 * torch.randn(held.shape)).clamp(-1, 1))
    only_circles = frechet_distance(classifier, data[0], held[data[3] == 0])  # one class: no variety
    assert abs(same) < 1e-6
    assert 0 < floor < noisy and floor < only_circles
    assert noisy > 5 * floor and only_circles > 5 * floor


@pytest.mark.parametrize("call, words", [
    (lambda c, d: class_accuracy(c, d[2], d[3][:10]), ["labels must be [300]", "[10]"]),
    (lambda c, d: class_accuracy(c, d[2], d[3].float()), ["integer labels", "float32"]),
    (lambda c, d: class_accuracy(c, d[2], d[3] + 5), ["0..2"]),
    (lambda c, d: predict(c, d[2][:, :1]), ["images must be [batch, 3, 32, 32]", "[300, 1, 32, 32]"]),
    (lambda c, d: frechet_distance(c, d[2], d[2][:1]), ["generated", "at least 2 images"]),
    (lambda c, d: Classifier(image_size=28), ["image_size=28", "multiple of 8"]),
])
def test_bad_inputs_are_named(classifier, data, call, words):
    with pytest.raises(ValueError) as error:
        call(classifier, data)
    for word in words:
        assert word in str(error.value), f"{word!r} not in {error.value}"


def test_a_reference_scores_as_the_images_it_holds(classifier, data):
    reference = frechet_reference(classifier, data[0])
    for generated in (data[2], data[2] + 0.3 * torch.randn_like(data[2])):
        assert frechet_distance(classifier, reference, generated) == pytest.approx(
            frechet_distance(classifier, data[0], generated), rel=1e-6)


def test_nearest_training_images_finds_a_copy_and_measures_the_rest(data):
    training = data[0]
    copies = training[[5, 17]]
    others = data[2][:3]
    distances, indices = nearest_training_images(torch.cat([copies, others]), training, batch_size=2)
    assert indices[:2].tolist() == [5, 17] and distances[:2].max() == 0  # a copy is at distance 0
    brute = torch.stack([(training - image).flatten(1).norm(dim=1).min() for image in others])
    assert torch.allclose(distances[2:], brute, rtol=1e-4, atol=1e-3) and brute.min() > 0.1
