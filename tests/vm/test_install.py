# SPDX-License-Identifier: GPL-2.0
"""In-VM tests of Hone as users install it: `make install` into a module tree, `dkms install`
from the hone-dkms package's sources, and the udev rule the packages ship.

On the test kernel, the host prepares what they use (scripts/test-packaging.sh) and names it in
the environment: HONE_INSTALL_ROOT (the test kernel's modules plus `make install DESTDIR=...
INSTALL_MOD_PATH=...`), HONE_DKMS_TREE (a dkms tree with hone built for the test kernel),
HONE_DKMS_SOURCES (the /usr/src of the hone-dkms .deb), HONE_KDIR (the test kernel's build tree)
and HONE_VERSION. On a stock kernel (scripts/test-stock.sh, HONE_PACKAGED=1) the VM's root is a
Debian install where apt installed both packages and dkms built the modules: the suite checks
that install instead.
"""

import os
import shutil
import subprocess

from honetest import MODULES, Modules, nodes_follow_udev_rule

R = M = TOOLS = None
SHB = b"\x0a\x0d\x0d\x0a"


def configure(results, modules, tools):
    global R, M, TOOLS
    R, M, TOOLS = results, modules, tools


def env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run the VM tests through `make test`")
    return value


def stream_head(path="/dev/hone"):
    """The first bytes a new reader of `path` gets (the section header comes at once)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        return os.read(fd, 4096)
    finally:
        os.close(fd)


def chain_works(loaded_from, modprobe_result):
    """Checks that the five modules are loaded from `loaded_from` and /dev/hone streams."""
    loaded = Modules.loaded()
    head = stream_head() if os.path.exists("/dev/hone") else b""
    detail = (f"rc={modprobe_result.returncode} {modprobe_result.stderr.strip()} loaded={sorted(loaded)} "
              f"from={loaded_from} head={head[:8].hex()}")
    return modprobe_result.returncode == 0 and set(MODULES) <= loaded and head.startswith(SHB), detail


def test_make_install_tree():
    root = env("HONE_INSTALL_ROOT")
    M.unload_all()
    installed = Modules(root)
    r = installed.load()
    where = subprocess.run(["modinfo", "-b", root, "-n", *MODULES], capture_output=True, text=True).stdout.split()
    ok, detail = chain_works(where, r)
    R.check("modprobe honeevent loads all five modules that `make install` put under updates/ and /dev/hone streams",
            ok and len(where) == 5 and all("/updates/" in p for p in where), detail)

    # The udev rule `make install` installed, with the group the packages create.
    subprocess.run(["groupadd", "-r", "hone"], capture_output=True)
    shutil.copy(os.path.join(root, "etc/udev/rules.d/60-hone.rules"), "/etc/udev/rules.d/60-hone.rules")
    subprocess.run(["udevadm", "control", "--reload"], capture_output=True)
    installed.rmmod("honeevent")
    r = installed.load()
    ok, detail = nodes_follow_udev_rule()
    R.check("the installed udev rule gives /dev/hone and /dev/honet to root:hone with mode 0440",
            r.returncode == 0 and ok, f"rc={r.returncode} {detail}")
    fd = None
    try:
        fd = os.open("/dev/hone", os.O_WRONLY)
    except OSError:
        pass
    R.check("opening /dev/hone for writing fails", fd is None)
    if fd is not None:
        os.close(fd)
    installed.unload_all()


def test_dkms_install():
    tree, sources = env("HONE_DKMS_TREE"), env("HONE_DKMS_SOURCES")
    kdir, version = env("HONE_KDIR"), env("HONE_VERSION")
    release = os.uname().release
    stage_modules = os.path.join(M.stage, "lib/modules", release)
    M.unload_all()
    # A writable /lib/modules holding the test kernel's own modules, as on an installed system.
    os.makedirs("/lib/modules", exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "hone-modules", "/lib/modules"], check=True)
    try:
        shutil.copytree(stage_modules, f"/lib/modules/{release}", symlinks=True,
                        ignore=shutil.ignore_patterns("updates"))
        subprocess.run(["depmod", release], check=True)
        d = subprocess.run(["dkms", "install", "-m", "hone", "-v", version, "-k", release,
                            "--kernelsourcedir", kdir, "--dkmstree", tree, "--sourcetree", sources],
                           capture_output=True, text=True)
        R.check("dkms install puts the modules built from the hone-dkms package in /lib/modules",
                d.returncode == 0 and os.path.exists(f"/lib/modules/{release}/updates/dkms/honeevent.ko"),
                (d.stdout + d.stderr)[-1500:])
        r = subprocess.run(["modprobe", "honeevent"], capture_output=True, text=True)
        where = subprocess.run(["modinfo", "-n", *MODULES], capture_output=True, text=True).stdout.split()
        ok, detail = chain_works(where, r)
        R.check("plain `modprobe honeevent` then loads the dkms-installed chain and /dev/hone streams",
                ok and len(where) == 5 and all("/updates/dkms/" in p for p in where), detail)
        r = subprocess.run(["modprobe", "-r", "honeevent"], capture_output=True, text=True)
        left = set(MODULES) & Modules.loaded()
        R.check("plain `modprobe -r honeevent` unloads all five", r.returncode == 0 and not left,
                f"rc={r.returncode} {r.stderr.strip()} still loaded: {sorted(left)}")
        d = subprocess.run(["dkms", "remove", "-m", "hone", "-v", version, "-k", release,
                            "--dkmstree", tree, "--sourcetree", sources], capture_output=True, text=True)
        R.check("dkms remove takes them out again",
                d.returncode == 0 and not os.path.exists(f"/lib/modules/{release}/updates/dkms/honeevent.ko"),
                (d.stdout + d.stderr)[-1500:])
    finally:
        subprocess.run(["modprobe", "-r", "honeevent"], capture_output=True)
        subprocess.run(["umount", "/lib/modules"], capture_output=True)
        # The rest of the suite runs with the staged modules loaded.
        M.load()


def test_installed_packages():
    release = os.uname().release
    M.unload_all()
    r = subprocess.run(["modprobe", "honeevent"], capture_output=True, text=True)
    where = subprocess.run(["modinfo", "-n", *MODULES], capture_output=True, text=True).stdout.split()
    ok, detail = chain_works(where, r)
    R.check(f"plain `modprobe honeevent` loads the five modules dkms built for {release} and /dev/hone streams",
            ok and len(where) == 5 and all(p.startswith(f"/lib/modules/{release}/updates/dkms/") for p in where), detail)
    # hone-tools' udev rule and the group its postinst made.
    ok, detail = nodes_follow_udev_rule()
    R.check("hone-tools' udev rule gives /dev/hone and /dev/honet to root:hone with mode 0440", ok, detail)
    r = subprocess.run(["modprobe", "-r", "honeevent"], capture_output=True, text=True)
    left = set(MODULES) & Modules.loaded()
    R.check("plain `modprobe -r honeevent` unloads all five", r.returncode == 0 and not left,
            f"rc={r.returncode} {r.stderr.strip()} still loaded: {sorted(left)}")
    # The rest of the suite runs with the chain loaded.
    M.load()


TESTS = ([test_installed_packages] if os.environ.get("HONE_PACKAGED") == "1"
         else [test_make_install_tree, test_dkms_install])
