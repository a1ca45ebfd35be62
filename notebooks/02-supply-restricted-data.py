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
# # Supply the restricted municipal counts
#
# The complete per-municipality counts of fighters are not public (Kursani 2015/2018,
# Shtuni 2016, UNDP 2017 and police data). Without them the municipal models run on a
# **synthetic** outcome, and every table they feed says so. This notebook walks through
# the file a researcher supplies, how `validate` reports its problems, and the rerun that
# drops every SYNTHETIC label.
#
# It works in a **scratch copy** of the project: your `data/` is not touched. The counts
# written below are **a demonstration made up by a seeded generator here, not data**:
# the notebook shows the mechanics and prints no estimate.

# %%
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from kosovo_study import models, registry, stages
from kosovo_study.errors import KosovoStudyError
from kosovo_study.municipalities import load_register
from kosovo_study.paths import ProjectPaths, project_paths
from kosovo_study.validation import validate_file

paths = project_paths()
registry.fetch(paths=paths)
stages.run("clean", paths)

scratch = ProjectPaths(Path(tempfile.mkdtemp(prefix="kosovo_study_restricted_")))
shutil.copy(paths.root / "pyproject.toml", scratch.root / "pyproject.toml")
shutil.copy(paths.root / "analysis_plan.yaml", scratch.root / "analysis_plan.yaml")
shutil.copytree(paths.data, scratch.data, ignore=shutil.ignore_patterns("restricted"))
scratch.restricted.mkdir(parents=True, exist_ok=True)
target = scratch.restricted / "fighters_by_municipality.csv"
print(target)

# %% [markdown]
# ## The format
#
# One row per municipality, with the columns `municipality, fighters, definition,
# period_start, period_end, source_key`. `municipality` may be written in any spelling the
# register knows. `fighters` is a whole number of persons (0 where the source reports none).

# %% [markdown]
# ## What `validate` says about a broken file
#
# Each problem names the line, the column and the fix; nothing is used until the file is
# valid.

# %%
target.write_text(
    "municipality,fighters,definition,period_start,period_end,source_key\n"
    "Kaçanik,twelve,persons who left for Syria or Iraq,2012,2015,MY_SOURCE\n"
    "Mitrovica,3,persons who left for Syria or Iraq,2012,2015,MY_SOURCE\n",
    encoding="utf-8",
)
try:
    validate_file(target)
except KosovoStudyError as error:
    print(error)

# %% [markdown]
# ## A valid file (demonstration values)
#
# For the walkthrough, counts are drawn here from a seeded Poisson distribution
# proportional to the 2024 population, for every municipality of the register (the
# validator wants all 38, with 0 where a source reports none). **They are not data**: the
# source key says so, and the definition is one of the validator's vocabulary
# (`kosovo_study.schemas.RESTRICTED_DEFINITIONS`). The names are written in Serbian Latin
# spelling, to show that any spelling the register knows is accepted.

# %%
municipalities = pd.read_parquet(scratch.processed / "municipalities.parquet")
serbian_latin = load_register().to_frame().set_index("municipality_id")["name_sr"]
rng = np.random.default_rng(2026)
weights = municipalities["population_2024"] / municipalities["population_2024"].sum()
demonstration = pd.DataFrame(
    {
        "municipality": municipalities["municipality_id"].map(serbian_latin),
        "fighters": rng.poisson(300 * weights),
        "definition": "travelled",
        "period_start": "2012-01-01",
        "period_end": "2015-12-31",
        "source_key": "DEMONSTRATION_NOT_DATA",
    }
)
print("demonstration total:", int(demonstration["fighters"].sum()))
demonstration.to_csv(target, index=False)
print(f"valid: {validate_file(target)} rows")

# %% [markdown]
# ## The rerun
#
# With the file in place, the models stage sees a changed input and refits; the outcome
# source becomes "restricted" and no table is marked synthetic any more. In a real
# project, `kosovo-study report` then rebuilds the book without the SYNTHETIC badges.

# %%
stages.run("models", scratch)
_, metadata = models.load_results(scratch)
print("outcome source:   ", metadata["municipal_outcome_source"])
print("synthetic tables: ", metadata["synthetic_tables"])
assert metadata["municipal_outcome_source"] == "restricted"
assert not metadata["synthetic_tables"]
shutil.rmtree(scratch.root)
