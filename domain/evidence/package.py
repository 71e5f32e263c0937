"""The evidence package: a ZIP that proves one leaf offline, and its verification (pure, in memory).

Contents: ``leaf.json`` (the exact leaf bytes), ``proof.json`` (leaf index, tree size, RFC 9162
inclusion proof), ``checkpoint.txt`` (the signed note the proof leads to), ``key.txt`` (the log's
vkey, as the server published it), ``files/<ref>`` (the original files the leaf vouches for) and
``说明.txt`` (how to verify, in plain Chinese).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from domain.errors import ValidationFailed
from domain.evidence import merkle
from domain.evidence.notes import Checkpoint, Verifier, open_checkpoint, parse_vkey
from domain.evidence.rules import parse_leaf

README_NAME = "说明.txt"
MAX_PACKAGE_BYTES = 200 * 1024 * 1024
README = """电子证据核验说明（证据包）

本证据包来自温岭市建设工程管理系统的“存证日志”。存证日志是一种只能追加、不能修改的默克尔树日志，
采用与证书透明度（RFC 6962 / RFC 9162）相同的算法。任何人都可以在不联网、不依赖本系统的情况下，
用本包中的材料自行核验：这条记录确实在日志中，并且记录中提到的文件没有被替换。

包内文件：
  leaf.json       被存证的记录原文（按键排序的 UTF-8 JSON，逐字节不可改动）；
  proof.json      包含证明：记录在日志中的序号（leaf_index）、日志大小（tree_size）和证明哈希（hashes）；
  checkpoint.txt  日志签名的“检查点”：日志名称、大小、根哈希，以及 Ed25519 签名；
  key.txt         日志的公钥（vkey 格式）。请务必与主管部门公开渠道公布的公钥核对一致；
  files/          记录所涉及的原始文件（如告警抓拍照片、整改照片），文件名即其在系统中的编号。

核验步骤：
  1. 计算叶哈希：SHA-256( 0x00 ‖ leaf.json 的全部字节 )。
  2. 按 RFC 9162 第 2.1.3.2 节，用 proof.json 中的哈希依次与叶哈希合并（节点哈希为
     SHA-256( 0x01 ‖ 左 ‖ 右 )），得到根哈希。
  3. 根哈希应与 checkpoint.txt 第三行（Base64）一致，且 checkpoint.txt 第二行的大小等于 tree_size。
  4. 用公布的公钥验证 checkpoint.txt 的签名（C2SP signed-note 格式，Ed25519 算法）。
  5. 对 files/ 下的每个文件计算 SHA-256，应与 leaf.json 中 files 列表里对应的 sha256 一致。
  以上全部一致，即说明该记录自存证以来未被修改，原始文件也未被替换。

也可以用系统自带的离线核验命令（无需连接服务器）：
  python -m config evidence verify 本证据包.zip --key "<公开的 vkey>"
如从其他渠道（例如监督方、第三方镜像）获得了同一大小的检查点，可加上 --checkpoint 检查点文件 一并核验。
"""


@dataclass
class Report:
    """What a verification found: each check in order, and whether all passed."""

    checks: list[tuple[bool, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(passed for passed, _message in self.checks)

    def add(self, passed: bool, message: str) -> bool:
        self.checks.append((passed, message))
        return passed


def build_package(
    *,
    leaf: bytes,
    leaf_index: int,
    tree_size: int,
    proof: list[bytes],
    checkpoint_note: str,
    vkey: str,
    files: dict[str, bytes],
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("leaf.json", leaf)
        proof_doc = {
            "leaf_index": leaf_index,
            "tree_size": tree_size,
            "leaf_hash": base64.b64encode(merkle.leaf_hash(leaf)).decode(),
            "hashes": [base64.b64encode(h).decode() for h in proof],
        }
        archive.writestr("proof.json", json.dumps(proof_doc, indent=2))
        archive.writestr("checkpoint.txt", checkpoint_note)
        archive.writestr("key.txt", vkey + "\n")
        for ref, data in sorted(files.items()):
            archive.writestr(f"files/{ref}", data)
        archive.writestr(README_NAME, README)
    return buffer.getvalue()


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        return archive.read(name)
    except KeyError as error:
        raise ValidationFailed(f"the package has no {name}", code="invalid_package") from error


def _proof(raw: bytes) -> tuple[int, int, list[bytes]]:
    try:
        doc = json.loads(raw)
        hashes = [base64.b64decode(h, validate=True) for h in doc["hashes"]]
        return int(doc["leaf_index"]), int(doc["tree_size"]), hashes
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise ValidationFailed("proof.json is malformed", code="invalid_package") from error


def _check_files(archive: zipfile.ZipFile, leaf: dict[str, Any], report: Report) -> None:
    names = set(archive.namelist())
    for item in leaf.get("files", []):
        ref, expected = str(item.get("ref", "")), str(item.get("sha256", ""))
        path = f"files/{ref}"
        if not expected:
            report.add(True, f"file {ref}: was already missing when logged; nothing to compare")
        elif path not in names:
            report.add(False, f"file {ref}: missing from the package")
        else:
            actual = hashlib.sha256(archive.read(path)).hexdigest()
            report.add(
                actual == expected,
                f"file {ref}: SHA-256 {'matches' if actual == expected else 'DIFFERS from'} the leaf",
            )


def _checkpoint(
    archive: zipfile.ZipFile, verifier: Verifier, note: str | None, report: Report
) -> Checkpoint | None:
    text = note if note is not None else _read(archive, "checkpoint.txt").decode()
    try:
        checkpoint = open_checkpoint(text, verifier)
    except ValidationFailed as error:
        report.add(False, f"checkpoint signature: {error.message}")
        return None
    report.add(True, f"checkpoint signed by {verifier.name} (size {checkpoint.size})")
    return checkpoint


def verify_package(
    data: bytes, *, verifier: Verifier | None = None, checkpoint_note: str | None = None
) -> Report:
    """Check a package offline. Without a trusted ``verifier`` the package's own key.txt is used,
    which proves integrity only if that key is the one the city published."""
    if len(data) > MAX_PACKAGE_BYTES:
        raise ValidationFailed("the package is too large", code="invalid_package")
    report = Report()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise ValidationFailed("not a ZIP file", code="invalid_package") from error
    with archive:
        key = verifier or parse_vkey(_read(archive, "key.txt").decode())
        if verifier is None:
            report.add(True, f"key from the package itself ({key.vkey}); compare it with the published key")
        leaf_bytes = _read(archive, "leaf.json")
        leaf = parse_leaf(leaf_bytes)
        index, size, proof = _proof(_read(archive, "proof.json"))
        checkpoint = _checkpoint(archive, key, checkpoint_note, report)
        if checkpoint is not None and report.add(
            checkpoint.size == size, f"proof is for tree size {size}, checkpoint has {checkpoint.size}"
        ):
            included = merkle.verify_inclusion(
                index=index, size=size, leaf=merkle.leaf_hash(leaf_bytes), proof=proof, root=checkpoint.root
            )
            report.add(included, f"leaf {index} {'is' if included else 'is NOT'} in the signed tree")
        _check_files(archive, leaf, report)
    return report
