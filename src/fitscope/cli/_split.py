"""``fitscope split``: split a dataset, print sizes, class counts and the audit."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .._errors import ArgumentError
from .._i18n import _
from ._output import HelpFormatter, console, print_json
from ._runs import add_runs_option


def parse_size(text: str, *, name: str, allow_provided: bool = False) -> int | float | str:
    """Parse a size option: a whole number of samples, a fraction, or ``provided``."""
    if allow_provided and text == "provided":
        return text
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        fix = ", a fraction like 0.2, or 'provided'" if allow_provided else " or a fraction like 0.2"
        raise ArgumentError(f"Invalid value for option {name}: {text!r}. Expected a count like 10000{fix}.") from None


def parse_pair(text: str) -> tuple[int | float, int | float]:
    """Parse ``TRAIN,VAL`` sizes for ``--subsample``."""
    pieces = text.split(",")
    if len(pieces) != 2:
        raise ArgumentError(f"Invalid value for option --subsample: {text!r}. Expected TRAIN,VAL such as 700,300.")
    sizes = [parse_size(p.strip(), name="--subsample") for p in pieces]
    return sizes[0], sizes[1]  # type: ignore[return-value]


def add_dataset_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset", required=True, metavar="NAME|PATH",
        help=_("mnist, fashion_mnist, digits, or a .npz / .csv file or IDX folder"),
    )  # fmt: skip
    parser.add_argument("--data-dir", type=Path, help=_("folder holding mnist.npz etc. (default: $FITSCOPE_DATA)"))
    parser.add_argument("--label", help=_("label column of a CSV file (default: label)"))
    parser.add_argument("--task", choices=("classification", "regression"), default="classification",
                        help=_("regression: the labels are numbers to predict, not classes (no class counts, "
                        "no stratify)"))  # fmt: skip


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "split",
        help=_("split a dataset into train/val/test (or folds) and audit it"),
        description=_(
            "Split a dataset reproducibly and audit the parts: sizes, class counts, "
            "exact duplicates within and across parts, class balance."
        ),
        epilog=_(
            "The book's split (validation = last 10000 training images, 700/300 drawn):\n"
            "  fitscope split --dataset mnist --val 10000 --no-shuffle --test provided "
            "--subsample 700,300 --seed 3"
        ),
        formatter_class=HelpFormatter,
    )
    add_dataset_options(parser)
    add_runs_option(parser, uses_store=False)
    parser.add_argument(
        "--val", default="0.2", metavar="N|F", help=_("validation size: a count or a fraction (default: 0.2)")
    )
    parser.add_argument(
        "--test", default="0", metavar="N|F|provided",
        help=_("test size: a count, a fraction, 0, or 'provided' for the dataset's own test set (default: 0)"),
    )  # fmt: skip
    parser.add_argument(
        "--shuffle", action=argparse.BooleanOptionalAction, default=True,
        help=_("shuffle before splitting (default: on); unshuffled, validation is the last samples"),
    )  # fmt: skip
    parser.add_argument("--stratify", action="store_true", help=_("keep class shares equal in every part"))
    parser.add_argument("--seed", type=int, help=_("random seed (default: drawn and recorded in the manifest)"))
    parser.add_argument("--subsample", metavar="TRAIN,VAL", help=_("draw this many training and validation samples"))
    parser.add_argument(
        "--replace",
        action="store_true",
        help=_("draw the subsample with replacement (as the book's np.random.choice)"),
    )
    parser.add_argument(
        "--folds", type=int, metavar="K", help=_("k-fold cross-validation splits instead of one holdout")
    )
    parser.add_argument(
        "--target", metavar="NAME|PATH",
        help=_("Ng's train-dev split: the data the model will meet (dev = --val of it, test = the rest); "
        "--dataset gives train and train-dev"),
    )  # fmt: skip
    parser.add_argument(
        "--train-dev", metavar="N|F", help=_("with --target: the train-dev part of --dataset (default: 0.1)")
    )
    parser.add_argument("--json", action="store_true", help=_("print JSON instead of tables"))
    parser.set_defaults(handler=run_split)


def load_from_args(args: argparse.Namespace, dataset: str | None = None) -> Any:
    """``--dataset`` (or another dataset named on the command line) with the data options given."""
    from ..data import load_dataset

    name = args.dataset if dataset is None else dataset
    options: dict[str, Any] = {"task": args.task}
    if name.lower().endswith(".csv"):
        options["label"] = args.label or "label"
    return load_dataset(name, data_dir=args.data_dir, **options)


def run_split(args: argparse.Namespace) -> int:
    from ..data import kfold_dataset, split_dataset

    if args.label is not None and not any(str(name).lower().endswith(".csv") for name in (args.dataset, args.target)
                                          if name):  # fmt: skip
        raise ArgumentError(f"--label names the label column of a CSV file; {args.dataset} is not one (a built-in "
                            "dataset or an .npz file knows its labels). Leave --label out.")  # fmt: skip
    test = parse_size(args.test, name="--test", allow_provided=True)
    val = parse_size(args.val, name="--val")
    subsample = parse_pair(args.subsample) if args.subsample else None
    if args.folds is not None and subsample is not None:
        raise ArgumentError("--subsample and --folds cannot be combined: folds use every sample.")
    if args.replace and subsample is None:
        raise ArgumentError("--replace only applies with --subsample TRAIN,VAL.")
    if args.train_dev is not None and args.target is None:
        raise ArgumentError("--train-dev: a train-dev part is held out of --dataset when --target gives the dev and "
                            "test data; add --target.")  # fmt: skip
    if args.target is not None:
        return _train_dev(args, val)
    dataset = load_from_args(args)
    if args.folds is not None:
        splits = kfold_dataset(
            dataset, args.folds, test=test, shuffle=args.shuffle, seed=args.seed,  # type: ignore[arg-type]
            stratify=args.stratify,
        )  # fmt: skip
        if args.json:
            print_json({"dataset": dataset.name, "folds": [{"fold": s.fold, **s.to_dict()} for s in splits]})
        else:
            for s in splits:
                _print_split(s, title=f"{dataset.name} — fold {s.fold}")
        return 0
    split = split_dataset(
        dataset, val=val, test=test, shuffle=args.shuffle, seed=args.seed,  # type: ignore[arg-type]
        stratify=args.stratify, subsample=subsample, replace=args.replace,
    )  # fmt: skip
    return _show(args, split, title=f"{dataset.name} ({dataset.source})")


def _train_dev(args: argparse.Namespace, dev: int | float | str) -> int:
    """``--target``: Ng's train-dev split (train and train-dev from --dataset, dev and test from --target)."""
    from ..data import train_dev_split

    refused = [option for option, given in (("--folds", args.folds is not None), ("--subsample", args.subsample),
                                            ("--test", args.test != "0")) if given]  # fmt: skip
    if refused:
        raise ArgumentError(f"{refused[0]} does not apply with --target: the test set is the rest of the target "
                            "after --val, and a train-dev split uses all of both datasets.")  # fmt: skip
    train_dev = parse_size(args.train_dev or "0.1", name="--train-dev")
    split = train_dev_split(
        load_from_args(args), load_from_args(args, args.target), train_dev=train_dev, dev=dev,  # type: ignore[arg-type]
        shuffle=args.shuffle, seed=args.seed, stratify=args.stratify,
    )  # fmt: skip
    return _show(args, split, title=f"{args.dataset} → {args.target} (train-dev split)")


def _show(args: argparse.Namespace, split: Any, *, title: str) -> int:
    """One split as JSON (``--json``) or as the table."""
    if args.json:
        print_json(split.to_dict())
    else:
        _print_split(split, title=title)
    return 0


def _print_split(split: Any, *, title: str) -> None:
    from rich.markup import escape  # class names, file names and warnings are shown as they are
    from rich.table import Table

    out = console()
    names = split.dataset.class_names
    parts = list(split.parts)
    table = Table(title=escape(title))
    table.add_column("")
    for part in parts:
        table.add_column(part, justify="right")
    table.add_row(_("size"), *(str(len(split.parts[p])) for p in parts), end_section=True)
    table.add_row(
        _("repeated samples"), *(str(split.audit.duplicates_within[p]) for p in parts),
        end_section=True,
    )  # fmt: skip
    for name in names:
        label = escape(_("class {name}").format(name=name))
        table.add_row(label, *(str(split.audit.class_counts[p][name]) for p in parts))
    stats = split.manifest.target_stats
    if stats:  # a regression: are the parts' targets alike? (there are no classes to stratify by)
        table.add_row(_("target mean"), *(f"{stats[p]['mean']:.4g}" for p in parts))
        table.add_row(_("target std"), *(f"{stats[p]['variance'] ** 0.5:.4g}" for p in parts))
    out.print(table)
    across = ", ".join(f"{k}: {v}" for k, v in split.audit.duplicates_across.items())
    out.print(_("shared samples across parts — {counts}").format(counts=across))
    m = split.manifest
    out.print(_("seed {seed}   index hash {hash}…").format(seed=m.seed, hash=m.index_hash[:16]))
    if split.audit.warnings:
        label = escape(_("warning:"))
        for warning in split.audit.warnings:
            out.print(f"[yellow]{label}[/] {escape(warning)}")
    else:
        regression = split.dataset.is_regression
        verdict = _("audit: no duplicates") if regression else _("audit: no duplicates, classes balanced")
        out.print(f"[green]{escape(verdict)}[/]")
