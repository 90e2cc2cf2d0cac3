"""Imports every module that declares tables, so that ``Base.metadata`` is complete.

It lives in ``app`` because it is the one layer allowed to import every package. Alembic's
env, the app factory and the tests import it; each area adds its model modules here (one line
each).
"""

from accounting import audit, costs, org, periods, sessions  # noqa: F401
from accounting.allocation import models as allocation_models  # noqa: F401
from accounting.budgets import models as budget_models  # noqa: F401
from accounting.db import Base
from accounting.invoicing import delivery as invoicing_delivery  # noqa: F401
from accounting.invoicing import models as invoicing_models  # noqa: F401
from accounting.ledger import account_days  # noqa: F401
from accounting.ledger import models as ledger_models  # noqa: F401
from accounting.seal import Seal  # noqa: F401
from app.api.tokens import ApiToken  # noqa: F401
from app.password_reset import PasswordReset  # noqa: F401
from app.security import RateLimitCounter  # noqa: F401
from timesheets import models as timesheet_models  # noqa: F401

metadata = Base.metadata
