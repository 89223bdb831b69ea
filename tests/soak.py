"""`make soak`: many rounds of tests/rounds.py, and a tally: kill -9 rounds at every kind of
moment (most with the fake model, every tenth with the tiny model through `python -m
mediafind`), some killed again while recovering, and storms of changes under `watch`. Prints
each round as it goes and ends with "survived N of N rounds; K invariants checked each";
exits 1 when any round broke an invariant.

It lives in tests/, not bench/: it measures no speed, and it is made of the tests' own helpers
(the realistic folder, the fake model's command line, the invariant checker).
example: python tests/soak.py --rounds 60 --storms 6 --seed 7
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import invariants
import library
import rounds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60, help="kill -9 rounds (60)")
    parser.add_argument("--storms", type=int, default=6, help="storm rounds under watch (6)")
    parser.add_argument("--seed", type=int, default=None, help="the same seed, the same rounds")
    parser.add_argument("--tiny-every", type=int, default=10, help="a tiny-model round every N")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    rng = random.Random(seed)
    print(f"soak: {args.rounds} kill rounds and {args.storms} storms, seed {seed}", flush=True)
    with tempfile.TemporaryDirectory(prefix="mediafind-soak-") as raw:
        work = Path(raw)
        for name in ("config", "data", "cache", "hf"):
            (work / name).mkdir()
        os.environ.update(
            MEDIAFIND_CONFIG_DIR=str(work / "config"),
            MEDIAFIND_DATA_DIR=str(work / "data"),
            MEDIAFIND_CACHE_DIR=str(work / "cache"),
            HF_HOME=str(work / "hf"),
            HF_HUB_OFFLINE="1",
        )
        for variable in ("MEDIAFIND_LIBRARY", "MEDIAFIND_MODEL", "MEDIAFIND_DEVICE"):
            os.environ.pop(variable, None)
        folder = work / "photos"
        library.build(folder)
        models = {"fake": rounds.fake_model(), "tiny": rounds.tiny_model()}
        cleans = {
            name: model.clean(folder, work / f"clean-{name}" / "library.sqlite3")
            for name, model in models.items()
        }
        outcomes: list[rounds.Outcome] = []
        started = time.monotonic()
        for number in range(1, args.rounds + 1):
            name = "tiny" if args.tiny_every and number % args.tiny_every == 0 else "fake"
            point = rounds.KILL_POINTS[(number - 1) % len(rounds.KILL_POINTS)]
            kills = 2 if rng.random() < 0.25 else 1
            mediafind = rounds.Mediafind(models[name], work / f"lib-{number}")
            span = 6.0 if name == "tiny" else 2.0
            title = f"round {number} ({name} model, kill {point}, {kills}x)"
            outcomes.append(
                rounds.kill_round(
                    title, mediafind, folder, cleans[name], point, rng, span=span, kills=kills
                )
            )
            _show(outcomes[-1])
            shutil.rmtree(mediafind.dir)
        for number in range(1, args.storms + 1):
            end = "kill" if number % 2 == 0 else "quiet"
            stormed = work / f"storm-{number}"
            shutil.copytree(folder, stormed)
            mediafind = rounds.Mediafind(models["fake"], work / f"storm-lib-{number}")
            title = f"storm {number} (watch, then {end})"
            outcomes.append(
                rounds.storm_round(title, mediafind, stormed, work, rng, bursts=8, end=end)
            )
            _show(outcomes[-1])
        survived = sum(o.survived for o in outcomes)
        each = len(invariants.checked(complete=True, against_clean=True))
        checks = sum(o.checks for o in outcomes)
        print(
            f"survived {survived} of {len(outcomes)} rounds; {each} invariants checked each "
            f"(after every kill and at the end: {checks:,} checks in all) in "
            f"{time.monotonic() - started:.0f} s, seed {seed}"
        )
    return 0 if survived == len(outcomes) else 1


def _show(outcome: rounds.Outcome) -> None:
    state = "survived" if outcome.survived else "BROKE"
    print(f"{outcome.name}: {state}", flush=True)
    for step in outcome.steps:
        print(f"    {step}", flush=True)
    for violation in outcome.violations:
        print(f"    !! {violation}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
