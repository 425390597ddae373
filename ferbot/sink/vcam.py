"""`--sink vcam`: the "FER Cam" virtual camera through pyvirtualcam.

The camera keeps the name "FER Cam" where the backend allows: on Linux the v4l2loopback device whose
card_label is "FER Cam" is picked; on Windows a Unity Capture device registered as "FER Cam" is tried before
the OBS Virtual Camera; on macOS only OBS's "OBS Virtual Camera" exists.
"""

from __future__ import annotations

import logging
import math
import platform
from pathlib import Path

import numpy as np
import pyvirtualcam

from ferbot.render import stopped_card
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
# What is wrong with a "FER Cam" device that is there but does not open, by a word of the error pyvirtualcam's
# v4l2loopback backend gives (it ends in the system's own: "Device or resource busy", or says "permissions")
DEVICE_PROBLEMS = {
    "busy": ("is busy: a program uses it in another size or format (the meeting app showing it, another ferbot); "
             "close that program, or turn the camera off in the meeting, before changing --size (fuser -v {device} "
             "names it)"),
    "permission": ("is not open to this user: add the user to the 'video' group (sudo usermod -aG video $USER), "
                   "then log out and in again"),
}
# When ferbot stops, the meeting app goes on showing the camera's last frame. For this long before it lets the
# camera go, ferbot shows a card saying the analysis has stopped instead of the labelled feed with its "Emotion
# analysis is ON" (an app that picks up a frame now and then gets one); each frame's wait ends at a Ctrl-C.
STOPPED_CARD_S = 1.0


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
            raise SinkError(_not_opened(system, options.get("device"), errors[-1]))
        if "device" not in options and system != "Darwin":  # macOS has no name to pick: OBS's camera it is
            log.warning("no virtual camera is named %r; publishing to %s instead (README, \"Virtual camera\" "
                        "under Set-up, shows how to name it)", CAMERA_NAME, self._camera.device)
        log.info("virtual camera %s (%s backend), %dx%d at %.0f fps", self._camera.device, self._camera.backend,
                 size[0], size[1], fps)
        self._sent = False  # whether the meeting may have seen the feed

    def send(self, frame: np.ndarray) -> bool:
        try:
            self._camera.send(frame)
        except RuntimeError as err:  # the device went away under us
            raise SinkError(f"the virtual camera stopped taking frames ({' '.join(str(err).split())}); "
                            "start ferbot again") from None
        self._sent = True
        return True

    def close(self) -> None:
        """Show the stopped card for STOPPED_CARD_S where the feed was sent (cut short by a Ctrl-C), then let the
        camera go."""
        try:
            if self._sent:
                self._show_stopped()
        finally:
            try:
                self._camera.close()
            except RuntimeError as err:  # a device that went away may fail to close too
                log.debug("closing the virtual camera: %s", err)

    def _show_stopped(self) -> None:
        card = stopped_card((self._camera.width, self._camera.height))
        try:
            for _ in range(math.ceil(STOPPED_CARD_S * self._camera.fps)):
                self._camera.send(card)
                self._camera.sleep_until_next_frame()
        except RuntimeError as err:  # the device went away
            log.debug("showing the stopped card: %s", err)


def _not_opened(system: str, device: str | None, error: str) -> str:
    """The line for a virtual camera that did not open: what is wrong with the "FER Cam" device found, where its
    `error` says (logged for debugging); otherwise how to install one."""
    problem = next((text for word, text in DEVICE_PROBLEMS.items() if word in error.lower()), None)
    if device and problem:
        return f'the "FER Cam" virtual camera {device} {problem.format(device=device)}; {OTHER_SINKS}'
    hint = INSTALL_HINTS.get(system, "install OBS Studio and its Virtual Camera")
    where = SYSTEM_NAMES.get(system, system or "this computer")
    return f"no virtual camera could be opened on {where} ({error}): {hint}; {OTHER_SINKS}"


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
    for entry in sorted(V4L2_SYSFS.glob("video*"), key=lambda entry: (len(entry.name), entry.name)):  # by N
        try:
            if (entry / "name").read_text().strip() == CAMERA_NAME:
                return f"/dev/{entry.name}"
        except OSError:
            continue
    return None
