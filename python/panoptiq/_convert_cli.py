"""``panoptiq convert <name>``: panopticapi's converters with their scripts' flags, refusing to
write into a non-empty output folder (or over an output file) unless ``--overwrite``."""

from __future__ import annotations

import argparse
from typing import Any

from panoptiq.converters._scripts import SCRIPTS, add_arguments, run


def run_convert(args: argparse.Namespace) -> int:
    run(args.converter, args, overwrite=False)
    return 0


def add_commands(commands: Any) -> None:
    convert = commands.add_parser(
        "convert",
        help="panopticapi's converters (2-channel, detection, semantic, combine, Cityscapes), exact and parallel",
        description="panopticapi's converter scripts with their flags, on all cores.",
    )
    names = convert.add_subparsers(dest="converter", required=True)
    for name, script in SCRIPTS.items():
        sub = names.add_parser(name, help=f"panopticapi's {script}", description=f"panopticapi's {script}.")
        add_arguments(name, sub)
        sub.set_defaults(run=run_convert)
