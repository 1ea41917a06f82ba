// SPDX-License-Identifier: GPL-2.0

//! Which container a process is in, read from the path of its cgroup (v2) alone, as container
//! runtimes name the cgroups they make. No runtime is asked: a path names a container when a
//! runtime's naming shows one, and the deepest such directory wins (a container in a container,
//! such as a kind node's pods inside a docker container, is the inner one).
//!
//! | runtime | cgroup directories (systemd driver, cgroupfs driver) |
//! |---|---|
//! | docker | `docker-<id>.scope`; `docker/<id>` |
//! | containerd | `cri-containerd-<id>.scope`, `nerdctl-<id>.scope`; `pod<uid>/<id>` (kubelet) |
//! | cri-o | `crio-<id>.scope`; `crio-<id>` |
//! | podman | `libpod-<id>.scope`; `libpod-<id>` |
//! | nspawn | `systemd-nspawn@<name>.service`, `machine-<name>.scope` (but not its `supervisor`) |
//!
//! An `<id>` is 64 lower-case hex digits. The monitors the runtimes run beside a container
//! (`libpod-conmon-<id>.scope`, `crio-conmon-<id>.scope`) are not the container. A machine's
//! name is unescaped as systemd escapes unit names (`\x2d` is `-`); `machine-qemu…` scopes are
//! libvirt's virtual machines, not containers.

/// A container runtime, as its cgroup naming shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// Docker (moby).
    Docker,
    /// containerd, through Kubernetes' CRI or nerdctl.
    Containerd,
    /// CRI-O.
    Crio,
    /// Podman.
    Podman,
    /// systemd-nspawn (a systemd machine).
    Nspawn,
}

impl Runtime {
    /// Its name in Hone's records: `docker`, `containerd`, `cri-o`, `podman`, `nspawn`.
    #[cfg(any(not(hone_kernel), hone_crate = "honeevent"))]
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Containerd => "containerd",
            Runtime::Crio => "cri-o",
            Runtime::Podman => "podman",
            Runtime::Nspawn => "nspawn",
        }
    }

    /// The runtime of a name that [`Runtime::name`] gives.
    #[cfg(not(hone_kernel))]
    pub fn from_name(name: &[u8]) -> Option<Self> {
        [Runtime::Docker, Runtime::Containerd, Runtime::Crio, Runtime::Podman, Runtime::Nspawn]
            .into_iter()
            .find(|r| r.name().as_bytes() == name)
    }
}

/// The longest container id (a machine name is at most 64 bytes, a runtime's id is 64 digits).
pub const MAX_ID: usize = 64;

/// A container: its runtime and its id (for a machine, its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Container {
    /// Who made it.
    pub runtime: Runtime,
    id: [u8; MAX_ID],
    len: u8,
}

impl Container {
    /// The container `id` of `runtime`, if it is not empty and not longer than [`MAX_ID`].
    pub fn new(runtime: Runtime, id: &[u8]) -> Option<Self> {
        if id.is_empty() || id.len() > MAX_ID {
            return None;
        }
        let mut c = Container { runtime, id: [0; MAX_ID], len: id.len() as u8 };
        c.id[..id.len()].copy_from_slice(id);
        Some(c)
    }

    /// Its id, as the runtime shows it (`docker ps --no-trunc`, `machinectl`).
    pub fn id(&self) -> &[u8] {
        &self.id[..usize::from(self.len)]
    }

    /// Its id as `docker ps` shows it: a runtime's 64 digits cut to 12, a machine's name whole.
    #[cfg(any(not(hone_kernel), hone_crate = "honeevent"))]
    pub fn short_id(&self) -> &[u8] {
        match self.runtime {
            Runtime::Nspawn => self.id(),
            _ => &self.id()[..12.min(self.id().len())],
        }
    }

    /// Whether a user's `want` (`[runtime:]id`, the id whole or, for a runtime's 64 hex digits,
    /// its first 12 or more) names this container, as the tools' `--container` takes it.
    #[cfg(not(hone_kernel))]
    pub fn is_named(&self, want: &str) -> bool {
        let (runtime, id) = match want.split_once(':') {
            Some((runtime, id)) => (Runtime::from_name(runtime.as_bytes()), id),
            None => (Some(self.runtime), want),
        };
        let full = self.id();
        let hex_id = full.len() == 64 && full.iter().all(u8::is_ascii_hexdigit);
        runtime == Some(self.runtime) && (full == id.as_bytes() || (hex_id && id.len() >= 12 && full.starts_with(id.as_bytes())))
    }
}

/// The container of a process whose cgroup (v2) is at `path` (`/system.slice/docker-….scope`,
/// as `/proc/<pid>/cgroup` shows it), if a runtime's naming shows one.
pub fn of_cgroup(path: &[u8]) -> Option<Container> {
    let dirs: &[u8] = path.strip_prefix(b"/").unwrap_or(path);
    let mut found = None;
    let mut parent: &[u8] = b"";
    let mut dirs_iter = dirs.split(|&b| b == b'/').filter(|d| !d.is_empty()).peekable();
    while let Some(dir) = dirs_iter.next() {
        let child = dirs_iter.peek().copied();
        if let Some(c) = of_directory(parent, dir, child) {
            found = Some(c);
        }
        parent = dir;
    }
    found
}

/// The container a directory `dir` (below `parent`, above `child`) stands for.
fn of_directory(parent: &[u8], dir: &[u8], child: Option<&[u8]>) -> Option<Container> {
    let scope = |prefix: &[u8]| dir.strip_prefix(prefix).and_then(|rest| rest.strip_suffix(b".scope")).filter(|id| is_id(id));
    if let Some(id) = scope(b"docker-") {
        return Container::new(Runtime::Docker, id);
    }
    if let Some(id) = scope(b"cri-containerd-").or_else(|| scope(b"nerdctl-")) {
        return Container::new(Runtime::Containerd, id);
    }
    if let Some(id) = scope(b"crio-").or_else(|| dir.strip_prefix(b"crio-").filter(|id| is_id(id))) {
        return Container::new(Runtime::Crio, id);
    }
    if let Some(id) = scope(b"libpod-").or_else(|| dir.strip_prefix(b"libpod-").filter(|id| is_id(id))) {
        return Container::new(Runtime::Podman, id);
    }
    if is_id(dir) {
        if parent == b"docker" {
            return Container::new(Runtime::Docker, dir);
        }
        if parent.starts_with(b"pod") {
            return Container::new(Runtime::Containerd, dir);
        }
    }
    if child == Some(b"supervisor".as_slice()) {
        return None;
    }
    let machine = dir
        .strip_prefix(b"systemd-nspawn@")
        .and_then(|rest| rest.strip_suffix(b".service"))
        .or_else(|| dir.strip_prefix(b"machine-").and_then(|rest| rest.strip_suffix(b".scope")))?;
    let mut name = [0u8; MAX_ID];
    let len = unescape_unit(machine, &mut name)?;
    if name[..len].starts_with(b"qemu-") {
        return None;
    }
    Container::new(Runtime::Nspawn, &name[..len])
}

/// Whether `s` is a runtime's container id: 64 lower-case hex digits.
fn is_id(s: &[u8]) -> bool {
    s.len() == 64 && s.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// Undoes systemd's unit-name escaping (`\xNN`) of `escaped` into `out`; its length, or `None`
/// if it is malformed or does not fit.
fn unescape_unit(escaped: &[u8], out: &mut [u8; MAX_ID]) -> Option<usize> {
    let mut len = 0;
    let mut i = 0;
    while i < escaped.len() {
        let b = if escaped[i] == b'\\' {
            let hex = escaped.get(i + 1..i + 4).filter(|h| h[0] == b'x')?;
            i += 4;
            (hex_digit(hex[1])? << 4) | hex_digit(hex[2])?
        } else {
            i += 1;
            escaped[i - 1]
        };
        *out.get_mut(len)? = b;
        len += 1;
    }
    Some(len)
}

fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::format;

    const ID: &str = "3f2a9c0d5e8b7a6f1c4d2e0b9a8f7e6d5c4b3a291807f6e5d4c3b2a19087f6e5";

    fn container(path: &str) -> Option<(&'static str, std::string::String)> {
        of_cgroup(path.as_bytes()).map(|c| (c.runtime.name(), std::string::String::from_utf8(c.id().to_vec()).unwrap()))
    }

    fn expect(path: &str, runtime: &'static str, id: &str) {
        assert_eq!(container(path), Some((runtime, id.into())), "{path}");
    }

    #[test]
    fn docker_both_drivers() {
        expect(&format!("/system.slice/docker-{ID}.scope"), "docker", ID);
        expect(&format!("/docker/{ID}"), "docker", ID);
        // systemd running inside the container, with its own cgroup namespace.
        expect(&format!("/system.slice/docker-{ID}.scope/init.scope"), "docker", ID);
        expect(&format!("/user.slice/user-1000.slice/user@1000.service/app.slice/docker.service/docker/{ID}"), "docker", ID);
    }

    #[test]
    fn kubernetes_runtimes() {
        let pod = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f1e2d3c_4b5a_6978_8a9b_0c1d2e3f4a5b.slice";
        expect(&format!("{pod}/cri-containerd-{ID}.scope"), "containerd", ID);
        expect(&format!("{pod}/crio-{ID}.scope"), "cri-o", ID);
        expect(&format!("/kubepods/burstable/pod0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b/{ID}"), "containerd", ID);
        expect(&format!("/kubepods/besteffort/pod0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b/crio-{ID}"), "cri-o", ID);
        expect(&format!("/system.slice/nerdctl-{ID}.scope"), "containerd", ID);
        // A pod's sandbox holder is not a container of its own; its directory is only the pod.
        assert_eq!(container(pod), None);
    }

    #[test]
    fn podman_not_its_monitor() {
        expect(&format!("/machine.slice/libpod-{ID}.scope"), "podman", ID);
        expect(&format!("/machine.slice/libpod-{ID}.scope/container"), "podman", ID);
        expect(&format!("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope"), "podman", ID);
        expect(&format!("/libpod_parent/libpod-{ID}"), "podman", ID);
        assert_eq!(container(&format!("/machine.slice/libpod-conmon-{ID}.scope")), None);
        assert_eq!(container(&format!("/system.slice/crio-conmon-{ID}.scope")), None);
    }

    #[test]
    fn nspawn_machines() {
        expect("/machine.slice/systemd-nspawn@web.service/payload", "nspawn", "web");
        expect("/machine.slice/machine-build\\x2dbox.scope/payload/system.slice/sshd.service", "nspawn", "build-box");
        expect("/machine.slice/machine-web.scope", "nspawn", "web");
        assert_eq!(container("/machine.slice/systemd-nspawn@web.service/supervisor"), None);
        assert_eq!(container("/machine.slice/machine-qemu\\x2d1\\x2dguest.scope/libvirt/emulator"), None);
        assert_eq!(container("/machine.slice/machine-bad\\x2.scope"), None);
    }

    #[test]
    fn the_innermost_container_wins() {
        let inner = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        expect(&format!("/system.slice/docker-{ID}.scope/kubelet.slice/kubelet-kubepods.slice/cri-containerd-{inner}.scope"), "containerd", inner);
    }

    #[test]
    fn hosts_are_not_containers() {
        for path in [
            "/",
            "",
            "/init.scope",
            "/system.slice/docker.service",
            "/system.slice/containerd.service",
            "/user.slice/user-1000.slice/session-3.scope",
            "/docker",
            "/system.slice/docker-3f2a.scope",
        ] {
            assert_eq!(container(path), None, "{path}");
        }
        let upper = ID.to_uppercase();
        assert_eq!(container(&format!("/docker/{upper}")), None);
        assert_eq!(container(&format!("/docker/{ID}0")), None);
    }

    #[test]
    fn runtime_names_round_trip() {
        for r in [Runtime::Docker, Runtime::Containerd, Runtime::Crio, Runtime::Podman, Runtime::Nspawn] {
            assert_eq!(Runtime::from_name(r.name().as_bytes()), Some(r));
        }
        assert_eq!(Runtime::from_name(b"lxc"), None);
        assert_eq!(Container::new(Runtime::Docker, b""), None);
        assert_eq!(Container::new(Runtime::Docker, &[b'a'; MAX_ID + 1]), None);
    }

    proptest! {
        #[test]
        fn any_path_is_read_without_panic(path in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Some(c) = of_cgroup(&path) {
                prop_assert!(!c.id().is_empty() && c.id().len() <= MAX_ID);
            }
        }

        #[test]
        fn a_scope_is_found_at_any_depth(
            id in "[0-9a-f]{64}",
            above in proptest::collection::vec("[a-z]{1,8}\\.slice", 0..4),
            below in proptest::collection::vec("[a-z]{1,8}\\.(service|scope)", 0..3),
        ) {
            let mut path = std::string::String::new();
            for dir in &above {
                path += "/";
                path += dir;
            }
            path += &format!("/docker-{id}.scope");
            for dir in &below {
                path += "/";
                path += dir;
            }
            prop_assert_eq!(container(&path), Some(("docker", id)));
        }
    }
}
