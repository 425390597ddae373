"""`--sink vcam`: the "FER Cam" virtual camera through pyvirtualcam.

The camera keeps the name "FER Cam" where the backend allows: on Linux the v4l2loopback device whose
card_label is "FER Cam" is picked; on Windows a Unity Capture device registered as "FER Cam" is tried before
the OBS Virtual Camera; on macOS only OBS's "OBS Virtual Camera" exists.
"""

from __future__ import annotations

import logging
import platform
from pathlib import Path

import numpy as np
import pyvirtualcam

from ferbot.sink.base import SinkError

log = logging.getLogger(__name__)

CAMERA_NAME = "FER Cam"
V4L2_SYSFS = Path("/sys/class/video4linux")
OTHER_SINKS = "or use --sink window, --sink file:PATH or --sink none"
SYSTEM_NAMES = {"Darwin": "macOS"}  # platform.system()'s names that users know by another
INSTALL_HINTS = {
    "Linux": ('install v4l2loopback and load it as "FER Cam": sudo apt install v4l2loopback-dkms && '
              'sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label="FER Cam"'),
    "Windows": ('install OBS Studio (it brings the "OBS Virtual Camera"), or Unity Capture with its device named '
                '"FER Cam" (its Install folder\'s InstallCustomName.bat, as administrator)'),
    "Darwin": 'install OBS Studio 30 or newer and start its Virtual Camera once so macOS lists it',
}


class VirtualCameraSink:
    """Publishes RGB frames of `size` at `fps` to a virtual camera."""

    def __init__(self, size: tuple[int, int], fps: float):
        errors = []
        system = platform.system()
        for options in camera_options():
            try:
                self._camera = pyvirtualcam.Camera(size[0], size[1], fps, fmt=pyvirtualcam.PixelFormat.RGB,
                                                   **options)
                break
            except Exception as err:  # pyvirtualcam raises RuntimeError listing each backend's failure
                errors.append(" ".join(str(err).split()))
        else:
            log.debug("virtual camera backends failed: %s", "; ".join(errors))
            hint = INSTALL_HINTS.get(system, "install OBS Studio and its Virtual Camera")
            where = SYSTEM_NAMES.get(system, system or "this computer")
            raise SinkError(f"no virtual camera could be opened on {where} ({errors[-1]}): {hint}; {OTHER_SINKS}")
        if "device" not in options and system != "Darwin":  # macOS has no name to pick: OBS's camera it is
            log.warning("no virtual camera is named %r; publishing to %s instead (README, \"Virtual camera\" "
                        "under Set-up, shows how to name it)", CAMERA_NAME, self._camera.device)
        log.info("virtual camera %s (%s backend), %dx%d at %.0f fps", self._camera.device, self._camera.backend,
                 size[0], size[1], fps)

    def send(self, frame: np.ndarray) -> bool:
        try:
            self._camera.send(frame)
        except RuntimeError as err:  # the device went away under us
            raise SinkError(f"the virtual camera stopped taking frames ({' '.join(str(err).split())}); "
                            "start ferbot again") from None
        return True

    def close(self) -> None:
        try:
            self._camera.close()
        except RuntimeError as err:  # a device that went away may fail to close too
            log.debug("closing the virtual camera: %s", err)


def camera_options() -> list[dict]:
    """pyvirtualcam.Camera keyword sets to try in order, the "FER Cam"-named device first: the only set with a
    "device"."""
    system = platform.system()
    if system == "Linux":
        device = named_v4l2_device()
        return [{"device": device}] if device else [{}]
    if system == "Windows":
        return [{"backend": "unitycapture", "device": CAMERA_NAME}, {}]
    return [{}]


def named_v4l2_device() -> str | None:
    """/dev/videoN of the v4l2loopback device labelled "FER Cam", if one is loaded."""
    for entry in sorted(V4L2_SYSFS.glob("video*")):
        try:
            if (entry / "name").read_text().strip() == CAMERA_NAME:
                return f"/dev/{entry.name}"
        except OSError:
            continue
    return None
