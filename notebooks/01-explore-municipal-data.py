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
# # Explore the municipal data
#
# The cleaned municipal table (one row per municipality of Kosovo), what each variable
# measures and how many municipalities it covers, and how names from any source are mapped
# to the Kosovo Agency of Statistics index. Everything here is published data: no model,
# no synthetic value.
#
# The raw files come from `$KOSOVO_STUDY_MIRROR` when it is set, otherwise from upstream;
# every file is checked against its sha256 in `data/raw/registry.csv`. Both stages are
# skipped when nothing changed.

# %%
import matplotlib.pyplot as plt
import pandas as pd

from kosovo_study import registry, stages
from kosovo_study.errors import KosovoStudyError
from kosovo_study.municipalities import normalise_municipality
from kosovo_study.paths import project_paths

paths = project_paths()
registry.fetch(paths=paths)
stages.run("clean", paths)

municipalities = pd.read_parquet(paths.processed / "municipalities.parquet")
municipalities.head()

# %% [markdown]
# ## What each variable is, and its coverage
#
# Missing is never zero: the four northern municipalities boycotted the 2011 census, and
# the Mosaic survey did not sample every municipality.

# %%
pd.read_parquet(paths.processed / "variables.parquet")

# %% [markdown]
# ## Municipality names
#
# `normalise_municipality` ignores case and diacritics and understands bilingual labels;
# it refuses an unknown or ambiguous name (a bare "Mitrovica") rather than guessing.

# %%
for label in ["Kaçanik", "kacanik", "Gjilan/Gnjilane", "Mitrovicë/a North"]:
    print(f"{label!r:24} -> {normalise_municipality(label)}")
try:
    normalise_municipality("Mitrovica")
except KosovoStudyError as error:
    print(f"refused: {error}")

# %% [markdown]
# ## Unemployment concern and documented Gulf-charity presence before 2014
#
# Unemployment concern is the share of Mosaic 2012 respondents naming unemployment among
# the three main problems; charity presence is 1 where a located activity with a Gulf
# donor was found before 2014, 0 where none was found (not "no charity").

# %%
with_share = municipalities.dropna(subset=["unemployment_concern_2012"])
fig, ax = plt.subplots(figsize=(6, 3.5))
for presence, group in with_share.groupby("charity_evidence_pre2014"):
    label = "Gulf-charity activity found" if presence else "none found"
    ax.scatter(group["population_2011"] / 1000, group["unemployment_concern_2012"], label=label)
ax.set_xscale("log")
ax.set_xlabel("population, 2011 census (thousands, log scale)")
ax.set_ylabel("unemployment concern, 2012 (share)")
ax.legend(frameon=False)
ax.set_title(f"{len(with_share)} municipalities with a Mosaic 2012 value")
plt.show()
