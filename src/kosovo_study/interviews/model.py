"""Interviewee-level model: logistic regression of travel on unemployment, charity contact,
identity-producer contact and age, with standard errors clustered by municipality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

TERMS = ("unemployed", "charity_contact", "producer_contact", "young")


def design(respondents: pd.DataFrame) -> pd.DataFrame:
    """0/1 predictors from the respondent table (attributes and code presence)."""
    charity = respondents.filter(like="has_charity").sum(axis=1) > 0
    producer = respondents.filter(like="has_producer").sum(axis=1) > 0
    return pd.DataFrame(
        {
            "travelled": (respondents["travelled"] == "yes").astype(float),
            "unemployed": (respondents["employment_status"] == "unemployed").astype(float),
            "charity_contact": charity.astype(float),
            "producer_contact": producer.astype(float),
            "young": respondents["age_band"].isin(["15-19", "20-24", "25-29"]).astype(float),
            "municipality": respondents["municipality"].astype(str),
        }
    )


def fit(respondents: pd.DataFrame, synthetic: bool) -> pd.DataFrame:
    """Odds ratios with 95% intervals (cluster-robust by municipality)."""
    data = design(respondents)
    groups = pd.factorize(data["municipality"])[0]
    X = sm.add_constant(data[list(TERMS)])
    result = sm.Logit(data["travelled"], X).fit(
        disp=0, cov_type="cluster", cov_kwds={"groups": groups}
    )
    z = stats.norm.ppf(0.975)
    params, se = result.params, result.bse
    return pd.DataFrame(
        {
            "term": params.index,
            "coef": params.to_numpy(),
            "cluster_se": se.to_numpy(),
            "odds_ratio": np.exp(params.to_numpy()),
            "or_low": np.exp((params - z * se).to_numpy()),
            "or_high": np.exp((params + z * se).to_numpy()),
            "n": int(result.nobs),
            "clusters": len(set(groups)),
            "synthetic": synthetic,
        }
    )
