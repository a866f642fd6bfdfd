"""The insight area's tables, one module per part (each part's migration is its own file):

- customer: one row per customer, the per-customer features, RFM and churn risk (0001)
- facts: per-store, per-day aggregates the dashboards read (0002)
- churn: the trained churn models, one per group and training (0003)
- campaigns: segments, campaigns, their treated and control members (0004)
- reports: the monthly service reports, rendered PDFs (0005)
"""

from .campaigns import *  # noqa: F403
from .churn import *  # noqa: F403
from .customer import *  # noqa: F403
from .facts import *  # noqa: F403
from .reports import *  # noqa: F403
