#!/usr/bin/env bash
# Tune the book's toy model over hidden units {2, 32, 512} and optimizer {sgd, rmsprop},
# on 2 worker processes, then draw the six validation curves side by side.
#   FITSCOPE_DATA=../shared/data bash examples/tune_book_toy.sh [EPOCHS]
set -euo pipefail
epochs="${1:-200}"
runs="${FITSCOPE_HOME:-fitscope-runs}"
here="$(cd "$(dirname "$0")" && pwd)"
fitscope tune "$here/book_toy.yaml" \
    --param 'model[0].Dense.units=2,32,512' --param compile.optimizer=sgd,rmsprop \
    --set "fit.epochs=$epochs" --executor process --workers 2 --runs "$runs" --json > "$runs-tune.json"
group=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['group_id'])" "$runs-tune.json")
fitscope plot --group "$group" -o tune-book-toy.png --runs "$runs"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('winner:', d['winner']['params'], 'val_loss', round(d['winner']['score'], 4))" "$runs-tune.json"
