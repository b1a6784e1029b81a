#!/usr/bin/env python
"""Django's command-line utility for administrative tasks.

Production settings unless ``DJANGO_SETTINGS_MODULE`` names others (the Makefile and the
README name ``project.settings.development``; pytest uses ``project.settings.testing``).
"""

import os
import sys


def main() -> None:
    """Run the management command named on the command line."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings.production")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
