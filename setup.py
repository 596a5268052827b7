"""Package discovery for setuptools (all metadata lives in pyproject.toml).

`migrations/` and `resources/` sit at the top of the repository (where people look for them)
and ship inside the wheel as `app.migrations` and `app.resources`.
"""

from setuptools import find_packages, setup

MAPPED = {"app.migrations": "migrations", "app.resources": "resources"}

setup(
    packages=[*find_packages(include=["app", "app.*"]), *MAPPED,
              "app.migrations.versions"],
    package_dir=MAPPED,
    package_data={
        "app.migrations": ["script.py.mako", "supabase/*.sql"],
        "app.resources": ["**/*"],
    },
)
