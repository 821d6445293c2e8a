"""``python -m panoptiq.converters.combine_semantic_and_instance_predictions``: panopticapi's
script of that name, same flags; also what ``panopticapi.combine_semantic_and_instance_predictions``
is after :func:`panoptiq.install_as_panopticapi`."""

import sys

from panoptiq.converters._combine import combine_predictions
from panoptiq.converters._scripts import main

__all__ = ["combine_predictions"]

if __name__ == "__main__":
    sys.exit(main("combine"))
