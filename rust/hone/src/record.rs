// SPDX-License-Identifier: GPL-2.0

//! The records Hone streams, as borrowed views that the encoders format and decoders return.

/// What happened to a process.
#[cfg_attr(
    any(hone_crate = "hone_notify", hone_crate = "honeevent"),
    allow(dead_code, reason = "made by process_notify")
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum ProcessKind {
    /// A new process (thread-group leader) was forked.
    Fork = 1,
    /// A process replaced its image with `execve`.
    Exec = 2,
    /// The last thread of a process exited.
    Exit = 3,
    /// A kernel thread was started (or is running, in a snapshot).
    Kthread = 4,
}

impl ProcessKind {
    /// The kind for a raw code, if valid.
    #[cfg(not(hone_kernel))]
    pub fn from_code(code: u32) -> Option<Self> {
        match code {
            1 => Some(Self::Fork),
            2 => Some(Self::Exec),
            3 => Some(Self::Exit),
            4 => Some(Self::Kthread),
            _ => None,
        }
    }

    /// The four-letter tag of `/dev/honet`.
    #[cfg(any(not(hone_kernel), hone_crate = "honeevent"))]
    pub fn tag(self) -> &'static [u8; 4] {
        match self {
            Self::Fork => b"FORK",
            Self::Exec => b"EXEC",
            Self::Exit => b"EXIT",
            Self::Kthread => b"KTHD",
        }
    }
}

/// A process event.
#[cfg(any(not(hone_kernel), hone_crate = "honeevent"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessRecord<'a> {
    /// What happened.
    pub kind: ProcessKind,
    /// Process id (the kernel's tgid).
    pub pid: i32,
    /// Parent's process id.
    pub ppid: i32,
    /// Effective user id, in the initial user namespace.
    pub euid: u32,
    /// Effective group id, in the initial user namespace.
    pub egid: u32,
    /// Executable path; for a kernel thread, its name without brackets.
    pub path: Option<&'a [u8]>,
    /// Arguments, each followed by a NUL byte, as in the process's memory.
    pub argv: Option<&'a [u8]>,
    /// Its cgroup and namespaces; known for a process that forked or exec'd.
    pub place: Option<Place<'a>>,
}

/// Where a process lives: its cgroup (v2) and its namespaces, as `/proc/<pid>` shows them to
/// the host.
#[cfg(any(not(hone_kernel), hone_crate = "honeevent"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place<'a> {
    /// Id of its cgroup: the inode number of the cgroup's directory in the cgroup2 file system.
    pub cgroup_id: u64,
    /// That cgroup's path from the root of the hierarchy (the `0::` line of `/proc/<pid>/cgroup`).
    pub cgroup_path: &'a [u8],
    /// Its process id as its own pid namespace sees it (the last `NSpid` of `/proc/<pid>/status`).
    pub nspid: i32,
    /// Inode number of its pid namespace (`/proc/<pid>/ns/pid`).
    pub pidns: u32,
    /// Inode number of its network namespace (`/proc/<pid>/ns/net`).
    pub netns: u32,
}

#[cfg(any(not(hone_kernel), hone_crate = "honeevent"))]
impl Place<'_> {
    /// The container its cgroup's path names, if any.
    pub fn container(&self) -> Option<super::container::Container> {
        super::container::of_cgroup(self.cgroup_path)
    }
}

/// Event classes, which are counted separately (delivered, dropped).
#[cfg(any(not(hone_kernel), hone_crate = "hone_notify", hone_crate = "honeevent"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Fork, exec, exit and kernel-thread events.
    Process = 0,
    /// Socket open and close events.
    Socket = 1,
    /// Packets.
    Packet = 2,
}

/// Number of event classes.
#[cfg(any(not(hone_kernel), hone_crate = "hone_notify", hone_crate = "honeevent"))]
pub const CLASSES: usize = 3;

/// One counter per event class, indexed by `Class as usize`.
#[cfg(any(not(hone_kernel), hone_crate = "honeevent"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts(pub [u64; CLASSES]);

#[cfg(any(not(hone_kernel), hone_crate = "honeevent"))]
impl Counts {
    /// Adds one to the counter of `class`.
    pub fn bump(&mut self, class: Class) {
        let c = &mut self.0[class as usize];
        *c = c.saturating_add(1);
    }

    /// Whether every counter is zero.
    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|&c| c == 0)
    }

    /// The counter of `class`.
    pub fn get(&self, class: Class) -> u64 {
        self.0[class as usize]
    }
}

/// A task's command name (`comm`, at most 16 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Comm {
    bytes: [u8; 16],
    len: u8,
}

impl Comm {
    /// The name in `bytes` (cut at 16 bytes).
    #[cfg(any(not(hone_kernel), hone_crate = "process_notify", hone_crate = "hone_notify"))]
    pub fn new(bytes: &[u8]) -> Self {
        let mut c = Comm::default();
        let n = bytes.len().min(16);
        c.bytes[..n].copy_from_slice(&bytes[..n]);
        c.len = n as u8;
        c
    }

    /// The name.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len).min(16)]
    }
}

/// Who a socket or packet belongs to.
#[cfg(any(not(hone_kernel), hone_crate = "hone_notify", hone_crate = "honeevent"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Owner {
    /// Process id (tgid).
    pub pid: i32,
    /// Parent's process id.
    pub ppid: i32,
    /// Effective user id.
    pub euid: u32,
    /// Effective group id.
    pub egid: u32,
    /// Command name, if known.
    pub comm: Comm,
}

/// A socket was opened or closed.
#[cfg(any(not(hone_kernel), hone_crate = "hone_notify", hone_crate = "honeevent"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketRecord {
    /// Whether it was closed (else opened).
    pub closed: bool,
    /// Connection id of the socket.
    pub conn: u32,
    /// The process that opened (accepted) or closed it.
    pub owner: Owner,
}

/// How a packet's process was found.
#[cfg(any(not(hone_kernel), hone_crate = "hone_notify", hone_crate = "honeevent"))]
#[cfg_attr(hone_crate = "honeevent", allow(dead_code, reason = "made by hone_notify"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Basis {
    /// The task that sent it, in its own context.
    Sender = 1,
    /// The current owner of its socket.
    Owner = 2,
    /// The owner of the listening socket of a connection not yet accepted.
    Listener = 3,
    /// The owner of the ping socket whose echo request it answers.
    Echo = 4,
}

#[cfg(any(not(hone_kernel), hone_crate = "honeevent"))]
impl Basis {
    /// The token of the packet comment (`via=<token>`) and of hone-dump.
    pub fn token(self) -> &'static str {
        match self {
            Basis::Sender => "sender",
            Basis::Owner => "owner",
            Basis::Listener => "listener",
            Basis::Echo => "echo",
        }
    }

    /// The basis of a PCAP-NG option value, if valid.
    #[cfg(not(hone_kernel))]
    pub fn from_code(code: u32) -> Option<Self> {
        [Basis::Sender, Basis::Owner, Basis::Listener, Basis::Echo].into_iter().find(|b| *b as u32 == code)
    }
}

/// A packet, without its bytes.
#[cfg(any(not(hone_kernel), hone_crate = "hone_notify", hone_crate = "honeevent"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketRecord {
    /// Arriving (LOCAL_IN) rather than leaving (LOCAL_OUT).
    pub inbound: bool,
    /// Connection id of its local socket, if one was found.
    pub conn: Option<u32>,
    /// Process it is attributed to, if known (never 0).
    pub pid: Option<u32>,
    /// The thread that sent it, when it was sent in process context.
    pub thread: Option<u32>,
    /// Command name of the process, if known.
    pub comm: Comm,
    /// How the process was found, when it was.
    pub basis: Option<Basis>,
    /// Inode number of the network namespace whose hook saw it (`/proc/<pid>/ns/net`).
    pub netns: Option<u32>,
    /// Id of the cgroup (v2) its socket was opened in, when the kernel keeps it.
    pub cgroup: Option<u64>,
    /// The container its process is in, if any.
    pub container: Option<super::container::Container>,
    /// Length of the whole packet from its network header.
    pub len: u32,
}
