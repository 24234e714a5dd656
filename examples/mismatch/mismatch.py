"""A train/test data-mismatch experiment, diagnosed with Andrew Ng's train-dev set.

Training data comes from one distribution (clean MNIST digits); the dev and test
sets come from the distribution the model will meet (the same kind of digits
with inverted contrast: white background, dark strokes). A train-dev set, held
out from the training distribution, tells the two problems apart: low error on
train-dev but high error on dev means the data differs, not that the model
overfits. Nothing is downloaded; the shifted images are built from MNIST.

Run:  FITSCOPE_DATA=../shared/data python examples/mismatch/mismatch.py [--train 6000] [--epochs 5]
Then: fitscope diagnose <run id>

The same experiment as a spec (data.target, split.train_dev), without Python code:
      FITSCOPE_DATA=../shared/data python examples/mismatch/mismatch.py --write-data
      fitscope run examples/mismatch/mismatch.yaml --test && fitscope diagnose last
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import fitscope  # chooses the Keras backend (JAX) before Keras is imported

# isort: split
import keras

from fitscope.analysis import diagnose_run
from fitscope.keras_glue import EvaluateEachEpoch, weights_fingerprint


def build_sets(n_train: int, n_target: int) -> tuple[fitscope.Dataset, fitscope.Dataset]:
    mnist = fitscope.load_mnist(download=False)
    clean = fitscope.Dataset.from_arrays(
        mnist.x[:n_train], mnist.y[:n_train], name="mnist-clean", class_names=mnist.class_names, value_max=255
    )
    start = mnist.n_train or 60000  # the target digits come from MNIST's own test images
    inverted = 255 - mnist.x[start : start + n_target]
    target = fitscope.Dataset.from_arrays(
        inverted, mnist.y[start : start + n_target], name="mnist-inverted",
        class_names=mnist.class_names, value_max=255,
    )  # fmt: skip
    return clean, target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=int, default=6000, help="training-distribution images (default 6000)")
    parser.add_argument("--target", type=int, default=4000, help="target-distribution images (default 4000)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--runs", help="run store folder (default: ./fitscope-runs)")
    parser.add_argument("--write-data", nargs="?", const=str(Path(__file__).parent), metavar="DIR",
                        help="only write the two sets as clean.npz and inverted.npz (default: beside "
                        "mismatch.yaml), for `fitscope run examples/mismatch/mismatch.yaml`")  # fmt: skip
    args = parser.parse_args()

    source, target = build_sets(args.train, args.target)
    if args.write_data:
        Path(args.write_data).mkdir(parents=True, exist_ok=True)
        for dataset, name in ((source, "clean.npz"), (target, "inverted.npz")):
            np.savez(Path(args.write_data) / name, x=dataset.x, y=dataset.y)
        print(f"wrote clean.npz and inverted.npz in {args.write_data}")
        return
    split = fitscope.train_dev_split(source, target, train_dev=0.1, dev=0.5, seed=0)
    prep = fitscope.Preprocessing()
    parts = {
        name: prep.apply(*split.take(name), value_max=255, num_classes=10) for name in split.parts
    }  # train, train_dev, val (dev), test

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])  # fmt: skip
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])

    store = fitscope.Store(args.runs)
    with store.start_run(name="mismatch", params={"units": 128, "epochs": args.epochs}, split=split) as run:
        recorder = fitscope.Recorder(run)
        model.fit(*parts["train"], validation_data=parts["val"], epochs=args.epochs, batch_size=64, verbose=0,
                  callbacks=[EvaluateEachEpoch("train_dev", parts["train_dev"]), recorder])  # fmt: skip
        recorder.close()
        fingerprint = weights_fingerprint(model)
        for name, ledger in (("val", "val"), ("test", "test")):
            result = model.evaluate(*parts[name], verbose=0, return_dict=True)
            run.record_evaluation(ledger, result, fingerprint=fingerprint)

    print(f"run {run.run_id}")
    for sentence in diagnose_run(run).sentences:
        print(sentence)


if __name__ == "__main__":
    main()
