"""DRIVER MOCKS for the virtual camera: stand-ins for the v4l2loopback kernel device behind pyvirtualcam's backend
interface (pyvirtualcam.camera.BACKENDS), so that the real pyvirtualcam.Camera runs over them. No driver can load
on the test machines; nothing above pyvirtualcam's backend boundary is replaced."""

from __future__ import annotations


class LoopbackDevice:
    """A v4l2loopback device, /dev/video7 where asked for, that keeps the frames sent to it."""

    opened: list[LoopbackDevice] = []

    def __init__(self, *, width, height, fps, fourcc, device, **kw):
        if device not in (None, "/dev/video7"):
            raise RuntimeError(f"device {device} does not exist")
        self.width, self.height, self.fps, self.fourcc, self._device = width, height, fps, fourcc, device
        self.frames, self.closed = [], False
        LoopbackDevice.opened.append(self)

    def send(self, frame):
        self.frames.append(frame.copy())

    def close(self):
        self.closed = True

    def device(self):
        return self._device or "/dev/video0"

    def native_fourcc(self):
        return None


class VanishingDevice(LoopbackDevice):
    """A device that goes away after FRAMES frames (OBS closed) mid-lesson and whose backend then raises, as
    pyvirtualcam's backends may (its Linux v4l2loopback backend prints a failed write and raises nothing, so this
    models the other platforms' drivers, not Linux's). Closing it fails once, as ferbot closes it; pyvirtualcam
    closes it again when the camera is collected, and then there is nothing left to release."""

    FRAMES = 90

    def __init__(self, **kw):
        super().__init__(**kw)
        self.sent = 0  # counted, not kept: a lesson's frames

    def send(self, frame):
        if self.sent == self.FRAMES:
            raise RuntimeError("error writing frame: No such device")
        self.sent += 1

    def close(self):
        if not self.closed:
            self.closed = True
            raise RuntimeError("no such device")


class RefusingDevice(LoopbackDevice):
    """A v4l2loopback device that is there but does not open, failing as pyvirtualcam's own v4l2loopback backend
    does (its messages, from native_linux_v4l2loopback/virtual_output.h): BUSY where another program holds it in
    another format (VIDIOC_S_FMT fails), NOT_PERMITTED where this user may not open it (EACCES). `message` picks."""

    BUSY = "Virtual camera device {device} could not be configured: Device or resource busy"
    NOT_PERMITTED = ("Could not access {device} due to missing permissions. Did you add your user to the 'video' "
                     "group? Run 'usermod -a -G video myusername' and log out and in again.")
    message = BUSY

    def __init__(self, *, device, **kw):
        raise RuntimeError(self.message.format(device=device))
