"""Settings: base (reads the environment), development, testing, production."""
