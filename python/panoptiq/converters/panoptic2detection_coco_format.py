"""``python -m panoptiq.converters.panoptic2detection_coco_format``: panopticapi's script of that name, same flags."""

import sys

from panoptiq.converters._scripts import main

if __name__ == "__main__":
    sys.exit(main("panoptic2detection"))
