"""Worked studies (jupytext scripts); a package only so that its conftest.py does not
shadow tests/conftest.py, which test modules import as ``conftest``."""
