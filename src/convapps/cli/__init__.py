"""The ``convapps`` command line: an outer layer that only calls the library."""
