"""Write wine.csv next to this file from scikit-learn's bundled copy of the UCI wine data (offline).

178 wines from three cultivars, 13 chemical measurements each, on very different scales
(hue near 1, proline in the hundreds to over 1600): the case for `data.scale: standardize`.

Run:  python examples/tabular/make_wine_csv.py
Then: fitscope run examples/tabular/wine.yaml
      fitscope cv examples/tabular/wine.yaml --folds 5 --stratify
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from sklearn.datasets import load_wine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().with_name("wine.csv"),
                        help="the file to write (default: wine.csv beside this script and wine.yaml)")  # fmt: skip
    target = parser.parse_args().output
    wine = load_wine()
    with target.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow([*wine.feature_names, "cultivar"])
        for features, label in zip(wine.data, wine.target, strict=True):
            writer.writerow([*features, f"cultivar_{label}"])
    print(f"wrote {target} ({len(wine.target)} rows)")


if __name__ == "__main__":
    main()
