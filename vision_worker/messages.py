"""The one catalog of user-facing (Simplified Chinese) text the vision worker produces."""

from __future__ import annotations

NO_HARDHAT_MESSAGE = (
    "摄像头「{camera}」发现未佩戴安全帽人员（连续 {frames} 帧，置信度中位数 {score:.2f}），请现场核实处置。"
)
