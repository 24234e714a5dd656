"""The public surface of ``fitscope``: changing it must be deliberate."""

from __future__ import annotations

import subprocess
import sys

import fitscope

EXPECTED = {
    "ArgumentError", "AuditReport", "DataError", "Dataset", "FitscopeError", "HoldoutSplit", "Interrupted",
    "KFoldSplit", "LivePlot", "Preprocessing", "Recorder", "Run", "RunInfo", "SpecError", "Split", "SplitManifest",
    "Store", "StoreError", "Subsample", "ValidationSplit", "__version__", "kfold_dataset", "load_dataset",
    "load_digits", "load_fashion_mnist", "load_file", "load_mnist", "plot_history", "reset_stateful_layers",
    "resume_model", "run_spec", "set_language", "split_dataset", "train_dev_split",
}  # fmt: skip


def test_all_is_the_expected_surface() -> None:
    assert set(fitscope.__all__) == EXPECTED
    for name in fitscope.__all__:
        assert getattr(fitscope, name) is not None, name


def test_import_is_light() -> None:
    code = "import sys, fitscope; print([m for m in ('keras', 'jax', 'sklearn') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# Every layer and sub-package states its public names; changing them must be deliberate.
SUB_PACKAGES = {
    "fitscope.data": {
        "AuditReport", "BUILTIN_DATASETS", "HUMAN_LEVEL_ERROR", "Dataset", "HoldoutSplit", "KFoldSplit", "Location",
        "Preprocessing", "Split", "SplitManifest", "Subsample", "ValidationSplit", "audit_parts", "concat_datasets",
        "kfold_dataset", "load_dataset", "load_digits", "load_fashion_mnist", "load_file", "load_mnist",
        "locate_builtin", "one_hot", "split_dataset", "train_dev_split", "ModelInputs", "read_inputs",
    },
    "fitscope.store": {
        "Bundle", "Checkpoint", "CheckpointDir", "PredictionsDir", "Checkpointed", "DB_NAME", "DEFAULT_ROOT", "Ended",
        "EpochEnded",
        "EpochRecord", "Evaluated", "Event", "GroupInfo", "QueueSink", "Ready", "Run", "RunInfo", "RunSink", "Sink",
        "Rewound", "Started", "Status", "Store", "TensorBoardWriter", "default_root", "DoctorReport", "Finding",
        "doctor", "library_versions", "normalize_metric_name", "scalar_tag", "MODELS", "MODEL_RECORD", "ModelSaved",
        "custom_objects_in", "model_record", "EXPORT_FORMATS", "epoch_rows", "run_rows", "write_rows",
        "code_differs", "describe_code", "environment",
    },
    "fitscope.analysis": {
        "ACTIONS", "Comparison", "ScoreSummary", "compare_scores", "summarise_scores", "ConfusedPair", "CurveReport",
        "ErrorAnalysis", "analyse_errors", "Diagnosis", "ERROR_LEVELS",
        "EpochBand", "FoldsDiagnosis", "GAPS", "GAP_NAMES",
        "GapReport", "LEVEL_NAMES", "LearningCurveVerdict", "MIN_EPOCHS", "SizePoint", "analyse_curves",
        "analyse_gaps", "diagnose_folds", "diagnose_run", "epoch_bands", "judge_learning_curve", "lowest_epoch",
        "parse_errors", "parse_sizes", "size_point", "standard_error",
    },
    "fitscope.report": {
        "CurveSet", "as_history", "band_figure", "board_command", "book_figure", "bundled_font_file", "cjk_font",
        "check_figure_name", "compare_figure", "confusion_figure", "configure_fonts", "gallery_figure", "image_shape",
        "korean_fonts", "param_figure",
        "learning_curve_figure", "plot_group", "plot_history",
        "plot_runs", "render_report", "save_figure", "start_board", "write_report", "MlflowExport", "export_to_mlflow",
        "mlflow_key",
    },
    "fitscope.keras_glue": {
        "EvaluateEachEpoch", "LivePlot", "LiveView", "OFF_SWITCH", "ProgressLine", "Recorder", "STATEFUL_RNN",
        "SynchronousCallbacks", "accelerate", "architecture_fingerprint", "carry_rnn_states", "check_resumable",
        "fit_arguments",
        "fuse_metric_resets", "fuse_steps", "inline_callbacks", "model_state", "progress_callback",
        "reset_stateful_layers", "restore_state", "results_from_step_logs", "resume_model", "shared_weight_programs",
        "speedups_on", "weight_programs", "weights_fingerprint", "keras_file_bytes", "StopWhenTold",
    },
    "fitscope.experiment": {
        "CVResult", "LearningCurveResult", "RepeatsResult", "compare_runs", "repeat_runs", "run_scores",
        "summarise_repeats",
        "RunErrors", "RunResult", "SealedEvaluation", "SearchResult", "Spec",
        "TrialRun",
        "assignments", "cross_validate", "explain", "learning_curve", "learning_curve_groups", "load_spec",
        "resume_command", "run_demo", "run_errors", "run_spec", "search", "standing_runs", "summarise_cv",
        "summarise_learning_curve", "test_run", "Predictions", "predict_run", "code_warning",
    },
    "fitscope.experiment.spec": {
        "BUNDLED_SPECS", "Spec", "apply_override", "as_spec", "bundled_spec_names", "data_dir_override",
        "format_override",
        "is_argument_path", "load_spec", "local_builder_files", "parse_yaml", "path_parts", "validate_spec",
        "yaml_problem",
    },
    "fitscope.experiment.preparing": {
        "FoldPlans", "Prepared", "TrialData", "TrialDataCache", "describe_holdout", "digest", "fold_pool",
        "group_labels", "nested_subset", "prepare", "prepare_parts", "prepare_trial", "refit_parts", "split_of",
        "trial_data",
        "trial_data_for", "warn_about_split",
    },
    "fitscope.experiment.training": {
        "PreparedArrays", "Trainer", "TrainingResult", "Trial", "build_callbacks", "build_model",
        "check_argument_name", "check_names", "evaluate_on", "keras_reason", "needs_every_step", "restored_epoch",
        "run_trial", "steps_per_execution", "train_dev_evaluation", "import_builder", "DIVERGENCE", "REDUCTION",
        "PrunePlan", "Rungs", "plan_pruning", "pruning_check",
    },
    "fitscope.experiment.sealed": {
        "GALLERY_SIZE", "EndedModel", "RunErrors", "SealedEvaluation", "evaluate_test", "load_ended_model",
        "run_errors", "test_run",
    },
    "fitscope.experiment.executors": {"Driver", "EXECUTORS", "Executor", "TrialOutcome", "execute", "start_executor"},
    "fitscope.experiment.search": {
        "CVResult", "LearningCurveResult", "RepeatsResult", "compare_runs", "repeat_runs", "run_scores",
        "summarise_repeats", "SearchResult", "TrialRun", "assignments", "cross_validate",
        "learning_curve", "learning_curve_groups", "learning_curve_sizes", "search", "standing_runs", "summarise_cv",
        "summarise_learning_curve", "code_warning",
    },
    "fitscope.cli": {"main"},
}  # fmt: skip


def test_every_sub_package_exports_what_it_promises() -> None:
    import importlib
    import pkgutil

    # Every package of the tree is listed: a new one must say what it exports.
    packages = {info.name for info in pkgutil.walk_packages(fitscope.__path__, "fitscope.") if info.ispkg}
    assert packages == set(SUB_PACKAGES)
    for name, expected in SUB_PACKAGES.items():
        module = importlib.import_module(name)
        assert set(module.__all__) == expected, name
        for member in module.__all__:
            assert getattr(module, member) is not None, f"{name}.{member}"


# The shared base of every layer (errors, version, backend choice, process set-up) sits at the top.
_BASE = {"_errors", "_i18n", "_version", "_backend", "_process"}  # (base modules below every layer)


def test_the_cli_imports_only_public_names() -> None:
    import ast
    from pathlib import Path

    private = []
    for path in sorted((Path(fitscope.__file__).parent / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level != 2 or node.module is None:
                continue  # (level 1: the CLI's own modules)
            parts = node.module.split(".")
            names = [alias.name for alias in node.names]
            if parts[0] in _BASE:
                continue
            if any(part.startswith("_") for part in parts) or any(n.startswith("_") for n in names):
                private.append(f"cli/{path.name}:{node.lineno} from ..{node.module} import {', '.join(names)}")
    assert private == []
