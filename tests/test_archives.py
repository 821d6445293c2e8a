"""Datasets read from zip and tar archives, in place, give the numbers of the extracted folders
bit for bit; broken archives give typed errors naming the archive and the member."""

from __future__ import annotations

import io
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from panoptiq import evaluation
from panoptiq.errors import ArchiveError
from panoptiq.synthetic import REALISTIC_GT_KINDS, REALISTIC_PRED_KINDS, make_dataset


def compute(gt_json, pred_json, **kwargs):
    return evaluation.pq_compute(str(gt_json), str(pred_json), verbose=False, **kwargs)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("archives")
    gt_json, pred_json = make_dataset(folder, 24, seed=5, gt_kinds=REALISTIC_GT_KINDS, pred_kinds=REALISTIC_PRED_KINDS)
    return gt_json, pred_json, compute(gt_json, pred_json)


def write_zip(path: Path, folder: Path, arcdir: str, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as z:
        for png in sorted(folder.iterdir()):
            z.write(png, f"{arcdir}/{png.name}" if arcdir else png.name)
    return path


def write_tar(path: Path, folder: Path, arcdir: str, fmt: int = tarfile.PAX_FORMAT) -> Path:
    with tarfile.open(path, "w", format=fmt) as t:
        for png in sorted(folder.iterdir()):
            t.add(png, f"{arcdir}/{png.name}" if arcdir else png.name)
    return path


def test_coco_layout_zip_is_the_folder_it_holds(data, tmp_path: Path) -> None:
    """COCO's panoptic_val2017.zip holds panoptic_val2017/*.png and stands for that folder."""
    gt_json, pred_json, expected = data
    gt_zip = write_zip(tmp_path / "panoptic_val2017.zip", gt_json.with_suffix(""), "panoptic_val2017")
    pred_zip = write_zip(tmp_path / "pred.zip", pred_json.with_suffix(""), "", zipfile.ZIP_STORED)
    assert compute(gt_json, pred_json, gt_folder=str(gt_zip), pred_folder=str(pred_zip)) == expected
    # The folder inside named explicitly.
    assert compute(gt_json, pred_json, gt_folder=f"{gt_zip}/panoptic_val2017") == expected


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
def test_tar_shards(data, tmp_path: Path, fmt: int) -> None:
    gt_json, pred_json, expected = data
    gt_tar = write_tar(tmp_path / "gt.tar", gt_json.with_suffix(""), "./shard-000/gt", fmt)
    pred_tar = write_tar(tmp_path / "pred.tar", pred_json.with_suffix(""), "", fmt)
    got = compute(gt_json, pred_json, gt_folder=f"{gt_tar}/shard-000/gt", pred_folder=f"file://{pred_tar}")
    assert got == expected


def test_json_and_nested_archives_inside_an_archive(data, tmp_path: Path) -> None:
    """As COCO ships it: panoptic_annotations_trainval2017.zip holds annotations/*.json and
    annotations/panoptic_val2017.zip; both are read without extracting anything."""
    gt_json, pred_json, expected = data
    inner = write_zip(tmp_path / "panoptic_val2017.zip", gt_json.with_suffix(""), "panoptic_val2017")
    shard = write_tar(tmp_path / "pred.tar", pred_json.with_suffix(""), "pred")
    outer = tmp_path / "panoptic_annotations_trainval2017.zip"
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(gt_json, "annotations/panoptic_val2017.json")
        z.write(pred_json, "annotations/pred.json")
        z.write(inner, "annotations/panoptic_val2017.zip", compress_type=zipfile.ZIP_STORED)
        z.write(shard, "annotations/pred.tar", compress_type=zipfile.ZIP_DEFLATED)
    got = compute(
        f"{outer}/annotations/panoptic_val2017.json",
        f"{outer}/annotations/pred.json",
        gt_folder=f"{outer}/annotations/panoptic_val2017.zip",
        pred_folder=f"{outer}/annotations/pred.tar/pred",
    )
    assert got == expected


def test_zip64_with_more_members_than_a_plain_zip_can_count(data, tmp_path: Path) -> None:
    """COCO train has 118k PNGs: past 65,535 members only the zip64 end record counts them."""
    gt_json, pred_json, expected = data
    path = write_zip(tmp_path / "big.zip", gt_json.with_suffix(""), "", zipfile.ZIP_STORED)
    with zipfile.ZipFile(path, "a") as z:
        for i in range(65_600):
            z.writestr(f"padding/{i}", b"")
    with zipfile.ZipFile(path) as z:
        assert len(z.infolist()) > 65_535
    assert path.read_bytes().find(b"PK\x06\x06") > 0, "zipfile wrote no zip64 end record"
    assert compute(gt_json, pred_json, gt_folder=str(path)) == expected


def test_a_missing_member_names_the_image_the_member_and_the_archive(data, tmp_path: Path) -> None:
    gt_json, pred_json, _ = data
    folder = tmp_path / "gt"
    shutil.copytree(gt_json.with_suffix(""), folder)
    (folder / "000000000003.png").unlink()
    archive = write_zip(tmp_path / "gt.zip", folder, "gt")
    with pytest.raises(FileNotFoundError) as error:
        compute(gt_json, pred_json, gt_folder=str(archive))
    message = str(error.value)
    assert message.startswith("In the image with ID 3: cannot read ")
    assert f"{archive}/000000000003.png: no such member in the zip archive {archive}" in message
    with pytest.raises(FileNotFoundError, match="has no folder elsewhere"):
        compute(gt_json, pred_json, gt_folder=f"{archive}/elsewhere")


def corrupt(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def test_broken_archives_are_typed_errors(data, tmp_path: Path) -> None:
    gt_json, pred_json, _ = data
    good = write_zip(tmp_path / "good.zip", gt_json.with_suffix(""), "").read_bytes()
    cases = {
        "cut.zip": (good[: len(good) // 2], "zip archive: no end of central directory record"),
        "crc.zip": (
            corrupt(good, 200),
            r"^In the image with ID 1: cannot read the archive .*crc\.zip: member 000000000001\.png: "
            r"(CRC-32 mismatch|corrupt deflate data)",
        ),
        "gz.tar.gz": (b"\x1f\x8b\x08\x00" + bytes(600), "gzip-compressed"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ArchiveError, match=message):
            compute(gt_json, pred_json, gt_folder=str(tmp_path / name))
    assert issubclass(ArchiveError, ValueError)


def test_unsupported_zip_members_say_why(data, tmp_path: Path) -> None:
    gt_json, pred_json, _ = data
    bzip = write_zip(tmp_path / "bz.zip", gt_json.with_suffix(""), "", zipfile.ZIP_BZIP2)
    with pytest.raises(ArchiveError, match="compressed with zip method 12; panoptiq reads stored and deflated"):
        compute(gt_json, pred_json, gt_folder=str(bzip))
    # The encryption flag set on every member, as an encrypting zip tool sets it.
    raw = bytearray(write_zip(tmp_path / "enc.zip", gt_json.with_suffix(""), "").read_bytes())
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        raw[at + 8] |= 1
        at = raw.find(b"PK\x01\x02", at + 4)
    (tmp_path / "enc.zip").write_bytes(bytes(raw))
    with pytest.raises(ArchiveError, match="is encrypted"):
        compute(gt_json, pred_json, gt_folder=str(tmp_path / "enc.zip"))


def test_a_truncated_tar_member_is_refused(data, tmp_path: Path) -> None:
    gt_json, pred_json, _ = data
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as t:
        for png in sorted(gt_json.with_suffix("").iterdir()):
            t.add(png, png.name)
    (tmp_path / "cut.tar").write_bytes(buffer.getvalue()[:5000])
    with pytest.raises(ArchiveError, match="cut short"):
        compute(gt_json, pred_json, gt_folder=str(tmp_path / "cut.tar"))
