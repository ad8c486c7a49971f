#!/usr/bin/python3
# Runs in: a Python process spawned by bench/search/run.ts (the external peer; never product code).
# Optuna 3.1's NSGA-II sampler on the EMONAS genome. It asks the parent for every evaluation over
# stdin/stdout (one JSON line each way), so both sides score the very same formula problem.
#
# Protocol: this script prints {"indices": [...]} and reads back {"f1": ..., "f2": ...} (normalised);
# it ends with {"done": true, "trials": n}. Genomes that break the 32-filter/9-cell op restriction are told
# to Optuna as infeasible through constraints_func and cost no evaluation; a genome asked again is answered
# from a cache and costs none either, so the budget counts distinct trained candidates as ours does.
import json
import sys
import warnings

import optuna

GENES = [("learning_rate", 19), ("filters", 3), ("cells", 3), ("node2_in", 2), ("node3_in", 3),
         ("node4_in", 4), ("op1", 10), ("op2", 10), ("op3", 10), ("op4", 10)]


def main():
    seed, budget, population = (int(v) for v in sys.argv[1:4])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    sampler = optuna.samplers.NSGAIISampler(
        population_size=population, seed=seed, constraints_func=lambda t: [t.user_attrs["violation"]])
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    cache = {}
    trials = 0
    while len(cache) < budget and trials < 50 * budget:
        trial = study.ask()
        trials += 1
        x = [trial.suggest_categorical(name, list(range(n))) for name, n in GENES]
        if x[1] == 0 and x[2] == 0 and any(op >= 7 for op in x[6:]):
            trial.set_user_attr("violation", 1.0)
            study.tell(trial, [1.0, 1.0])
            continue
        trial.set_user_attr("violation", 0.0)
        key = tuple(x)
        if key not in cache:
            print(json.dumps({"indices": x}), flush=True)
            answer = json.loads(sys.stdin.readline())
            cache[key] = [answer["f1"], answer["f2"]]
        study.tell(trial, cache[key])
    print(json.dumps({"done": True, "trials": trials}), flush=True)


if __name__ == "__main__":
    main()
