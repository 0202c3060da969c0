"""Sub-commands of the ``spanqa`` command line, one module each (see :mod:`spanqa.cli`)."""
