# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The multiverse on a Dask cluster
#
# The multiverse fits every combination of outcome, population base, unemployment and
# charity measure, model family, controls and exclusions, each with a randomization
# p-value. It runs on local cores by default, or on any Dask cluster: pass the
# scheduler's address (`kosovo-study multiverse --scheduler tcp://host:8786`).
#
# Here a two-worker `LocalCluster` stands in for a real cluster, with **19 permutations
# instead of 999**, in a scratch copy of the project so that your results are not
# replaced. Without the restricted counts **the municipal outcome is SYNTHETIC**: nothing
# below is a finding.

# %%
import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
from distributed import LocalCluster

from kosovo_study import registry, stages
from kosovo_study.config import load_config
from kosovo_study.paths import ProjectPaths, project_paths

paths = project_paths()
registry.fetch(paths=paths)
stages.run("clean", paths)

scratch = ProjectPaths(Path(tempfile.mkdtemp(prefix="kosovo_study_multiverse_")))
shutil.copy(paths.root / "pyproject.toml", scratch.root / "pyproject.toml")
shutil.copy(paths.root / "analysis_plan.yaml", scratch.root / "analysis_plan.yaml")
shutil.copytree(paths.data, scratch.data, ignore=shutil.ignore_patterns("restricted"))

# %%
with LocalCluster(
    n_workers=2, threads_per_worker=1, dashboard_address=None, memory_limit="2GiB"
) as cluster:
    print(cluster.scheduler_address)
    stages.run(
        "multiverse",
        scratch,
        load_config(scratch.root, {"multiverse_permutations": 19, "multiverse_seed": 2020}),
        force=True,
        scheduler=cluster.scheduler_address,
    )

# %%
summary = json.loads((scratch.results / "multiverse_summary.json").read_text(encoding="utf-8"))
print(json.dumps({k: v for k, v in summary.items() if k != "grid"}, indent=1, default=str)[:2000])
specifications = pd.read_csv(scratch.results / "multiverse_specifications.csv")
print(f"{len(specifications)} specifications, 19 permutations each (SYNTHETIC outcome)")
specifications.head()

# %%
shutil.rmtree(scratch.root)
