"""The one catalog of user-facing (Simplified Chinese) text the vision worker produces."""

from __future__ import annotations

# The alerts catalog words a camera alarm from its people count and confidence (domain/alerts/messages.py);
# this is the detail kept with it, naming the camera. No frame counts: frames may be seconds apart.
NO_HARDHAT_MESSAGE = "摄像头「{camera}」识别到 {people} 人未戴安全帽"
