"""``python -m panoptiq.converters.cityscapes_panoptic_converter``: panopticapi's script of that name, same flags."""

import sys

from panoptiq.converters._scripts import main

if __name__ == "__main__":
    sys.exit(main("cityscapes"))
