"""The book's stateful-LSTM training loop, recorded as one continuous curve.

The book trains a stateful LSTM by calling ``fit(epochs=1)`` in a loop and
resetting the layer state after each pass. Keras alone would number every pass
"epoch 0"; with fitscope's recorder the store and TensorBoard get epochs 0..N-1.
Within a pass the layer carries its state from one batch (one window of the melody)
to the next, on every backend: on JAX, Keras alone would silently start every batch
from zeros (fitscope's recorder makes the state carry; the example prints its size at
the end of the last pass, before the reset).

Run:  python examples/stateful_rnn.py [--epochs 200] [--runs DIR]
Then: fitscope runs show <run id>    or    fitscope board
"""

from __future__ import annotations

import argparse

import numpy as np

import fitscope  # chooses the Keras backend (JAX) before Keras is imported

# isort: split
import keras


def sequences(length: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """A repeating melody as (window -> next note) pairs, scaled to [0, 1]."""
    notes = np.array([4, 2, 2, 3, 1, 1, 0, 1, 2, 3, 4, 4, 4] * 3, dtype="float32") / 4
    x = np.stack([notes[i : i + length] for i in range(len(notes) - length)])[..., None]
    return x, notes[length:, None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=200, help="passes of the loop (default: 200)")
    parser.add_argument("--runs", help="run store folder (default: ./fitscope-runs)")
    args = parser.parse_args()

    x, y = sequences()
    keras.utils.set_random_seed(0)
    # On PyTorch, Keras 3.15's fast LSTM path updates a stateful layer's state in place and
    # breaks autograd (keras-team/keras#23462); its generic path does not.
    options = {"use_cudnn": False} if keras.backend.backend() == "torch" else {}
    model = keras.Sequential(
        [keras.Input((x.shape[1], 1), batch_size=1), keras.layers.LSTM(16, stateful=True, **options),
         keras.layers.Dense(1)]
    )  # fmt: skip
    model.compile(loss="mse", optimizer="adam")

    store = fitscope.Store(args.runs)
    with store.start_run(name="stateful-lstm", params={"units": 16, "epochs": args.epochs}) as run:
        recorder = fitscope.Recorder(run)
        carried = 0.0
        for _ in range(args.epochs):  # the book's loop
            model.fit(x, y, epochs=1, batch_size=1, shuffle=False, verbose=0, callbacks=[recorder])
            carried = float(sum(np.abs(keras.ops.convert_to_numpy(v.value)).sum() for v in model.layers[0].states))
            fitscope.reset_stateful_layers(model)  # Keras 3's model.reset_states()
        recorder.close()

    losses = run.history()["loss"]
    print(f"run {run.run_id}: {len(losses)} epochs recorded (0..{len(losses) - 1}), "
          f"loss {losses[0]:.4f} -> {losses[-1]:.4f}")  # fmt: skip
    print(f"LSTM state carried to the end of the last pass: sum |h| + |c| = {carried:.3f} (then reset to 0)")


if __name__ == "__main__":
    main()
