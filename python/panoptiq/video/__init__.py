"""Video panoptic segmentation: Video Panoptic Quality (VPQ, Kim et al., CVPR 2020) as mcahny/vps
computes it, and Segmentation and Tracking Quality (STQ, Weber et al., 2021) as deeplab2's
``STQuality`` does — on the same Rust engine as PQ: pair histograms, summed over a tube's frames
for VPQ; a histogram of track ids and a class confusion matrix for STQ.

- :class:`VideoPanopticQuality` — VPQ fed frame by frame from id maps in memory.
- :func:`vpq_compute` — VPQ of a dataset's JSON files and PNG folders (Cityscapes-VPS, VIPSeg),
  on one machine or a Dask cluster; :func:`vpq_plan` and :func:`evaluate_video_part` for any
  other engine, merged exactly.
- :class:`STQuality` — deeplab2's class, exact by default; :func:`stq_compute` (VIPSeg) and
  :func:`stq_kitti_step` over a dataset's files.
- :func:`read_kitti_step`, :func:`read_panoptic_frame` — readers of the datasets' label PNGs.
"""

from __future__ import annotations

from panoptiq.video._parts import VideoPart, VideoPlan, evaluate_video_part, vpq_plan
from panoptiq.video._readers import instance_numbers, read_kitti_step, read_panoptic_frame
from panoptiq.video._stq import STQuality
from panoptiq.video._stq_files import stq_compute, stq_kitti_step
from panoptiq.video._vpq import ShortVideoWarning, VideoPanopticQuality
from panoptiq.video._vpq_compute import vpq_compute

__all__ = [
    "STQuality",
    "ShortVideoWarning",
    "VideoPanopticQuality",
    "VideoPart",
    "VideoPlan",
    "evaluate_video_part",
    "instance_numbers",
    "read_kitti_step",
    "read_panoptic_frame",
    "stq_compute",
    "stq_kitti_step",
    "vpq_compute",
    "vpq_plan",
]
