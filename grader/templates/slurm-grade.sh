#!/usr/bin/env bash
# Grading a whole course on a Slurm cluster: a job array runs one shard of the batch per task,
# each writing a partial gradebook to a shared folder; a job that depends on the whole array
# (afterok) merges them. See grader/README.md, "A cluster".
#
#   bash slurm-grade.sh            # on the login node: submits the array and the merge
#
#   DATA=/shared/course/grading    the shared folder: submissions/ and solution.ipynb in it;
#                                  parts/, results/ and gradebook.csv are written there
#   SHARDS=4                       tasks in the array
#   GRADER=grader                  the grader binary (`grader prepare` run once on each node's
#                                  cache, or a shared ORM_EVAL_CACHE_DIR)
#SBATCH --job-name=orm-grade
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --mem=6G
#SBATCH --time=12:00:00
#SBATCH --output=orm-grade-%A_%a.out
set -euo pipefail
DATA="${DATA:-$PWD/grading}"
SHARDS="${SHARDS:-4}"
GRADER="${GRADER:-grader}"

case "${1:-submit}" in
  submit)
    mkdir -p "$DATA/parts" "$DATA/results"
    # The array's size on the command line wins over the #SBATCH line above.
    array=$(DATA="$DATA" SHARDS="$SHARDS" GRADER="$GRADER" \
      sbatch --parsable --array="0-$((SHARDS - 1))" "$0" shard)
    # Expanded when the merge runs, from the environment sbatch passes on (--export=ALL).
    # shellcheck disable=SC2016
    DATA="$DATA" GRADER="$GRADER" \
      sbatch --parsable --job-name=orm-grade-merge --dependency="afterok:${array%%;*}" \
      --output=orm-grade-merge-%j.out \
      --wrap 'exec "$GRADER" merge "$DATA"/parts/part-*.csv -o "$DATA/gradebook.csv"'
    ;;
  shard)
    # The shard comes from SLURM_ARRAY_TASK_ID, _MIN, _STEP and _COUNT.
    exec "$GRADER" batch "$DATA/submissions" --assignment "$DATA/solution.ipynb" \
      --shard-from-env --jobs 1 --quiet --results-dir "$DATA/results" \
      --csv "$DATA/parts/part-${SLURM_ARRAY_TASK_ID}.csv"
    ;;
  *)
    echo "usage: bash slurm-grade.sh [submit|shard]" >&2
    exit 2
    ;;
esac
