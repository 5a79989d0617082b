"""The web dashboard: ``hashwatt serve``, a FastAPI app over the fleet service.

Pages are server-rendered (Jinja2) with small JavaScript over the JSON API under ``/api/v1``;
the charting library (uPlot) ships in ``static/`` with its licence, so a site without internet
still has charts. Users, sessions and API tokens live in the fleet database.
"""

from hashwatt.web._app import PoolGroup, WebConfig, create_app, route_roles, safe_next
from hashwatt.web._groups import PoolGroupsError, load_pool_groups
from hashwatt.web._users import LoginRefused, Role, Session, User, UserError, UserStore

__all__ = [
    "LoginRefused",
    "PoolGroup",
    "PoolGroupsError",
    "Role",
    "Session",
    "User",
    "UserError",
    "UserStore",
    "WebConfig",
    "create_app",
    "load_pool_groups",
    "route_roles",
    "safe_next",
]
