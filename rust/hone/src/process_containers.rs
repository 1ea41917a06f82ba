// SPDX-License-Identifier: GPL-2.0

//! Which container each process that lives in one is in, so that its packets can say so: a
//! table from pid to a container's key and one from that key to the container, each a
//! [`socktab::Table`](super::socktab::Table) (lookups without a lock, changes through one
//! writer). Processes outside containers are not kept, and a container is kept once however many
//! processes it has.

use super::container::{Container, Runtime, MAX_ID};
use super::socktab::{Pack, Slot, Table, TableFull, Writer};
use core::ops::Deref;

impl Runtime {
    fn code(self) -> u64 {
        match self {
            Runtime::Docker => 1,
            Runtime::Containerd => 2,
            Runtime::Crio => 3,
            Runtime::Podman => 4,
            Runtime::Nspawn => 5,
        }
    }

    fn from_code(code: u64) -> Option<Self> {
        [Runtime::Docker, Runtime::Containerd, Runtime::Crio, Runtime::Podman, Runtime::Nspawn]
            .into_iter()
            .find(|r| r.code() == code)
    }
}

/// Words of a container: its runtime and length, then its id.
const CONTAINER_WORDS: usize = 1 + MAX_ID / 8;

/// A container as it is kept: `None` is a slot whose words name no container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kept(Option<Container>);

impl Pack<CONTAINER_WORDS> for Kept {
    fn pack(&self) -> [u64; CONTAINER_WORDS] {
        let mut words = [0u64; CONTAINER_WORDS];
        if let Some(c) = &self.0 {
            let id = c.id();
            words[0] = c.runtime.code() | (id.len() as u64) << 8;
            for (w, chunk) in words[1..].iter_mut().zip(id.chunks(8)) {
                let mut b = [0u8; 8];
                b[..chunk.len()].copy_from_slice(chunk);
                *w = u64::from_le_bytes(b);
            }
        }
        words
    }

    fn unpack(words: [u64; CONTAINER_WORDS]) -> Self {
        let mut id = [0u8; MAX_ID];
        for (chunk, w) in id.chunks_mut(8).zip(&words[1..]) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        let len = usize::from((words[0] >> 8) as u8).min(MAX_ID);
        Kept(Runtime::from_code(words[0] & 0xff).and_then(|r| Container::new(r, &id[..len])))
    }
}

/// A slot of the pid table.
pub type PidSlot = Slot<1>;
/// A slot of the container table.
pub type ContainerSlot = Slot<CONTAINER_WORDS>;

/// The key of a container in its table: a hash of runtime and id, never 0.
fn key(c: &Container) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in core::iter::once(c.runtime.code() as u8).chain(c.id().iter().copied()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h | 1
}

/// The right to change a [`ProcessContainers`]; keep it behind a lock with its tables.
#[derive(Debug)]
pub struct ContainersWriter {
    pids: Writer,
    containers: Writer,
}

/// The containers of processes, over caller-provided slots.
pub struct ProcessContainers<P: Deref<Target = [PidSlot]>, C: Deref<Target = [ContainerSlot]>> {
    pids: Table<u64, 1, P>,
    containers: Table<Kept, CONTAINER_WORDS, C>,
}

impl<P: Deref<Target = [PidSlot]>, C: Deref<Target = [ContainerSlot]>> ProcessContainers<P, C> {
    /// Tables over `pids` and `containers` (empty, each a power of two of at least 8), and
    /// their writer.
    pub fn new(pids: P, containers: C) -> Option<(Self, ContainersWriter)> {
        let (pids, pw) = Table::new(pids)?;
        let (containers, cw) = Table::new(containers)?;
        Some((ProcessContainers { pids, containers }, ContainersWriter { pids: pw, containers: cw }))
    }

    /// Process `pid` now lives in `container` (or in none). `Err` when a table is full: the
    /// process is then taken for one outside containers.
    pub fn set(&self, w: &mut ContainersWriter, pid: i32, container: Option<&Container>) -> Result<(), TableFull> {
        let pid = pid_key(pid);
        let Some(c) = container else {
            self.pids.remove(&mut w.pids, pid);
            return Ok(());
        };
        let k = key(c);
        let placed = match self.containers.get_locked(&w.containers, k) {
            Some(Kept(Some(kept))) if kept == *c => Ok(()),
            // Two containers of one hash: the second is not named.
            Some(_) => Err(TableFull),
            None => self.containers.insert(&mut w.containers, k, Kept(Some(*c))).map(|_| ()),
        };
        match placed.and_then(|()| self.pids.insert(&mut w.pids, pid, k)) {
            Ok(_) => Ok(()),
            Err(full) => {
                self.pids.remove(&mut w.pids, pid);
                Err(full)
            }
        }
    }

    /// The key of the container of process `pid` (0 for none), in one attempt without a lock:
    /// `None` when a change overlapped the lookup (try again, or use
    /// [`ProcessContainers::key_locked`]). Containers are never removed one by one, so a key
    /// names its container until the tables are cleared, after the process has exited too.
    pub fn try_key(&self, pid: i32) -> Option<u64> {
        // A host without containers: every packet sent in process context asks, none probes.
        if self.pids.len() == 0 {
            return Some(0);
        }
        Some(self.pids.try_get(pid_key(pid))?.unwrap_or(0))
    }

    /// The key of the container of process `pid` (0 for none), read by the holder of the writer.
    pub fn key_locked(&self, w: &ContainersWriter, pid: i32) -> u64 {
        self.pids.get_locked(&w.pids, pid_key(pid)).unwrap_or(0)
    }

    /// The container of key `key`, in one attempt without a lock (`None` as for
    /// [`ProcessContainers::try_key`]).
    pub fn try_container(&self, key: u64) -> Option<Option<Container>> {
        if key == 0 {
            return Some(None);
        }
        Some(self.containers.try_get(key)?.and_then(|kept| kept.0))
    }

    /// The container of key `key`, read by the holder of the writer.
    pub fn container_locked(&self, w: &ContainersWriter, key: u64) -> Option<Container> {
        self.containers.get_locked(&w.containers, key).and_then(|kept| kept.0)
    }

    /// The container of process `pid`, in one attempt without a lock (`None` as for
    /// [`ProcessContainers::try_key`]).
    #[cfg(not(hone_kernel))]
    pub fn try_get(&self, pid: i32) -> Option<Option<Container>> {
        self.try_container(self.try_key(pid)?)
    }

    /// The container of process `pid`, read by the holder of the writer.
    #[cfg(not(hone_kernel))]
    pub fn get_locked(&self, w: &ContainersWriter, pid: i32) -> Option<Container> {
        self.container_locked(w, self.key_locked(w, pid))
    }

    /// Number of processes kept.
    #[cfg(not(hone_kernel))]
    pub fn len(&self) -> usize {
        self.pids.len()
    }

    /// Whether no process is kept.
    #[cfg(not(hone_kernel))]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every process and container.
    pub fn clear(&self, w: &mut ContainersWriter) {
        self.pids.clear(&mut w.pids);
        self.containers.clear(&mut w.containers);
    }
}

/// A pid as a table key (pids are positive; 0 never names a process).
fn pid_key(pid: i32) -> u64 {
    u64::from(pid as u32) | 1 << 32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;
    use std::vec::Vec;

    type Host = ProcessContainers<Vec<PidSlot>, Vec<ContainerSlot>>;

    fn tables(pids: usize, containers: usize) -> (Host, ContainersWriter) {
        ProcessContainers::new((0..pids).map(|_| Slot::default()).collect(), (0..containers).map(|_| Slot::default()).collect())
            .unwrap()
    }

    fn container(runtime: Runtime, id: &[u8]) -> Container {
        Container::new(runtime, id).unwrap()
    }

    #[test]
    fn containers_pack_whole() {
        for c in [
            container(Runtime::Docker, &[b'f'; 64]),
            container(Runtime::Nspawn, b"a"),
            container(Runtime::Podman, b"\0\xff12345678"),
            container(Runtime::Crio, &[0x80; 63]),
            container(Runtime::Containerd, b"abcdefgh"),
        ] {
            assert_eq!(Kept::unpack(Kept(Some(c)).pack()), Kept(Some(c)));
        }
        assert_eq!(Kept::unpack([0; CONTAINER_WORDS]), Kept(None));
    }

    #[test]
    fn a_container_is_kept_once_for_all_its_processes() {
        let (t, mut w) = tables(16, 8);
        let web = container(Runtime::Docker, &[b'a'; 64]);
        let db = container(Runtime::Podman, &[b'b'; 64]);
        for pid in 1..=5 {
            t.set(&mut w, pid, Some(&web)).unwrap();
        }
        t.set(&mut w, 6, Some(&db)).unwrap();
        assert_eq!(t.containers.len(), 2);
        assert_eq!(t.try_get(3), Some(Some(web)));
        assert_eq!(t.try_get(6), Some(Some(db)));
        assert_eq!(t.try_get(7), Some(None));
        // A process that leaves its container (or a reused pid outside one) is forgotten.
        t.set(&mut w, 3, None).unwrap();
        assert_eq!(t.try_get(3), Some(None));
        assert_eq!(t.len(), 5);
        t.clear(&mut w);
        assert!(t.is_empty());
        assert_eq!(t.get_locked(&w, 1), None);
    }

    #[test]
    fn full_tables_name_no_container_and_say_so() {
        let (t, mut w) = tables(8, 8);
        let c = container(Runtime::Docker, &[b'c'; 64]);
        for pid in 1..=7 {
            t.set(&mut w, pid, Some(&c)).unwrap();
        }
        assert_eq!(t.set(&mut w, 8, Some(&c)), Err(TableFull));
        assert_eq!(t.try_get(8), Some(None));
        let (t, mut w) = tables(64, 8);
        for n in 0..7u8 {
            t.set(&mut w, i32::from(n) + 1, Some(&container(Runtime::Nspawn, &[b'a' + n]))).unwrap();
        }
        assert_eq!(t.set(&mut w, 9, Some(&container(Runtime::Nspawn, b"z"))), Err(TableFull));
        assert_eq!(t.get_locked(&w, 9), None);
        assert_eq!(t.get_locked(&w, 1), Some(container(Runtime::Nspawn, b"a")));
    }

    proptest! {
        #[test]
        fn agrees_with_a_map(steps in proptest::collection::vec((1i32..40, proptest::option::of(0u8..6)), 0..200)) {
            let (t, mut w) = tables(64, 16);
            let mut model: HashMap<i32, Container> = HashMap::new();
            for (pid, which) in steps {
                let c = which.map(|n| container(if n % 2 == 0 { Runtime::Docker } else { Runtime::Crio }, &[b'0' + n; 64]));
                t.set(&mut w, pid, c.as_ref()).unwrap();
                match c {
                    Some(c) => model.insert(pid, c),
                    None => model.remove(&pid),
                };
                for p in 1..40 {
                    prop_assert_eq!(t.try_get(p), Some(model.get(&p).copied()));
                }
            }
        }
    }
}
