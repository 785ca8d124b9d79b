"""Flask's and Flask-Session's own session tests, ported (see conftest.py). A package, so
that its conftest does not take the name of tests/conftest.py in sys.modules."""
