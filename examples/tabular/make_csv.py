"""Write a CSV file next to this script from a table scikit-learn ships (offline).

- ``wine``: 178 wines from three cultivars, 13 chemical measurements each, on very
  different scales (hue near 1, proline in the hundreds to over 1600): a classification,
  and the case for `data.scale: standardize`.
- ``diabetes``: 442 patients, 10 measurements each, and a number to predict (disease
  progression a year later, 25 to 346): a regression (`data.task: regression`).

Run:  python examples/tabular/make_csv.py wine        (or diabetes)
Then: fitscope run examples/tabular/wine.yaml         (or diabetes.yaml)
      fitscope cv examples/tabular/wine.yaml --folds 5 --stratify
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from sklearn.datasets import load_diabetes, load_wine

TABLES = {"wine": (load_wine, "cultivar"), "diabetes": (load_diabetes, "progression")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("table", choices=sorted(TABLES), help="which table to write")
    parser.add_argument("--output", type=Path, help="the file to write (default: TABLE.csv beside this script)")
    args = parser.parse_args()
    load, label = TABLES[args.table]
    target = args.output or Path(__file__).resolve().with_name(f"{args.table}.csv")
    table = load()
    with target.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow([*table.feature_names, label])
        for features, value in zip(table.data, table.target, strict=True):
            # wine's classes as names (text labels are classes); diabetes's numbers as they are
            writer.writerow([*features, f"cultivar_{value}" if args.table == "wine" else value])
    print(f"wrote {target} ({len(table.target)} rows)")


if __name__ == "__main__":
    main()
