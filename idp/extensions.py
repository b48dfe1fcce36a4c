"""Module-level extension objects, bound to the app in `create_app`.

Flask-Migrate is not among them: it loads Alembic (12 MB), which only the command line needs (`init_migrations`).
"""

from __future__ import annotations

from flask_babel import Babel
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
babel = Babel()
