// SPDX-License-Identifier: GPL-2.0

//! Where a reader's stream is in its sections. A section is a header, the snapshot of the
//! processes running when it began, then live records; a restart ends it with its statistics and
//! one end of file (a read that returns 0), and the next section starts with a new snapshot. A new
//! snaplen sends the header again within the section. A restart asked for while a section is
//! already ending changes nothing: that section still gets its statistics and its end of file.

/// The phase of a reader's stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No section is open: a header is next, then a new snapshot if `snapshot` (a reader's
    /// first section uses the one taken when it opened, unless it restarted before reading).
    Opening {
        /// A new snapshot is to be taken after the header.
        snapshot: bool,
    },
    /// A section is open and its header is to be sent again (its snaplen changed).
    Reheading,
    /// A section is open: its snapshot, then live records.
    Records,
    /// The section's statistics are next, then its end of file.
    Tail,
    /// The section's end of file is next.
    EndOfFile,
}

/// What a stream sends next, as its phase says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The section's statistics.
    Tail,
    /// The end of file, which the reader returns once nothing written before it is left to send
    /// ([`Section::end_of_file_returned`]).
    EndOfFile,
    /// A section header (for a format, a new section: what it remembers starts afresh); after
    /// it a new snapshot if `snapshot`. The section's records follow.
    Header {
        /// Whether to take a new snapshot.
        snapshot: bool,
    },
    /// The section's records.
    Records,
}

/// A reader's place in its sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    phase: Phase,
}

impl Default for Section {
    fn default() -> Self {
        Self::new()
    }
}

impl Section {
    /// A new reader: its first header is next, with the snapshot taken when it opened.
    pub const fn new() -> Self {
        Section { phase: Phase::Opening { snapshot: false } }
    }

    /// The phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// `RESTART`: the open section ends (a section not yet opened just starts afresh) and the
    /// next begins with a new snapshot.
    pub fn restart(&mut self) {
        self.phase = match self.phase {
            Phase::Opening { .. } => Phase::Opening { snapshot: true },
            Phase::Reheading | Phase::Records => Phase::Tail,
            ending @ (Phase::Tail | Phase::EndOfFile) => ending,
        };
    }

    /// `SET_SNAPLEN`: the open section's header is sent again, advertising the new snaplen.
    pub fn new_header(&mut self) {
        if self.phase == Phase::Records {
            self.phase = Phase::Reheading;
        }
    }

    /// Takes the next step: the phase moves past a tail or a header (not past the end of file).
    pub fn step(&mut self) -> Step {
        let (step, next) = match self.phase {
            Phase::Tail => (Step::Tail, Phase::EndOfFile),
            Phase::EndOfFile => (Step::EndOfFile, Phase::EndOfFile),
            Phase::Opening { snapshot } => (Step::Header { snapshot }, Phase::Records),
            Phase::Reheading => (Step::Header { snapshot: false }, Phase::Records),
            Phase::Records => (Step::Records, Phase::Records),
        };
        self.phase = next;
        step
    }

    /// The reader returned the end of file: the next section opens.
    pub fn end_of_file_returned(&mut self) {
        if self.phase == Phase::EndOfFile {
            self.phase = Phase::Opening { snapshot: true };
        }
    }

    /// `GET_AT_HEAD`: a header (and maybe a section's end before it) is to be sent before the
    /// next record; there is something to read.
    pub fn at_head(&self) -> bool {
        self.phase != Phase::Records
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// What a reader sees, as a model: the stream it reads, one token per thing sent.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Sent {
        Header { snapshot: bool, new_section: bool },
        Tail,
        Eof,
        Record,
    }

    #[derive(Debug, Clone, Copy)]
    enum Op {
        Restart,
        Snaplen,
        /// The reader reads until nothing is left or it gets an end of file.
        Read,
    }

    fn read(s: &mut Section, out: &mut Vec<Sent>) {
        loop {
            let new_section = matches!(s.phase(), Phase::Opening { .. });
            match s.step() {
                Step::Tail => out.push(Sent::Tail),
                Step::EndOfFile => {
                    out.push(Sent::Eof);
                    s.end_of_file_returned();
                    return;
                }
                Step::Header { snapshot } => out.push(Sent::Header { snapshot, new_section }),
                Step::Records => {
                    out.push(Sent::Record);
                    return;
                }
            }
        }
    }

    #[test]
    fn a_reader_starts_with_a_header_and_the_snapshot_of_its_open() {
        let mut s = Section::new();
        assert!(s.at_head());
        assert_eq!(s.step(), Step::Header { snapshot: false });
        assert!(!s.at_head());
        assert_eq!(s.step(), Step::Records);
    }

    #[test]
    fn a_restart_ends_the_section_with_its_tail_and_one_end_of_file() {
        let mut s = Section::new();
        s.step();
        s.restart();
        assert!(s.at_head());
        assert_eq!(s.step(), Step::Tail);
        assert_eq!(s.step(), Step::EndOfFile);
        assert_eq!(s.step(), Step::EndOfFile, "until the reader returns it");
        s.end_of_file_returned();
        assert_eq!(s.step(), Step::Header { snapshot: true });
        assert_eq!(s.step(), Step::Records);
    }

    #[test]
    fn a_restart_before_the_first_header_only_takes_a_new_snapshot() {
        let mut s = Section::new();
        s.restart();
        assert_eq!(s.step(), Step::Header { snapshot: true });
    }

    #[test]
    fn a_new_snaplen_repeats_the_header_within_the_section() {
        let mut s = Section::new();
        s.new_header();
        assert_eq!(s.phase(), Phase::Opening { snapshot: false }, "the first header is still to come");
        s.step();
        s.new_header();
        assert!(s.at_head());
        assert_eq!(s.phase(), Phase::Reheading);
        assert_eq!(s.step(), Step::Header { snapshot: false });
        s.new_header();
        s.restart();
        assert_eq!(s.step(), Step::Tail, "a section whose header is being repeated is open: it ends");
    }

    #[test]
    fn a_second_restart_while_the_section_ends_changes_nothing() {
        for steps_before in 0..2 {
            let mut s = Section::new();
            s.step();
            s.restart();
            for _ in 0..steps_before {
                s.step();
            }
            let before = s;
            s.restart();
            s.new_header();
            assert_eq!(s, before);
        }
    }

    proptest! {
        /// Whatever the reader and the ioctls do, the stream is well-formed: each section opens
        /// with a new-section header and a tail is always followed by exactly one end of file,
        /// then a new section with a new snapshot; repeated headers come only within a section;
        /// every restart of an open section is answered by a tail.
        #[test]
        fn the_stream_is_always_well_formed(ops in proptest::collection::vec(
            prop_oneof![Just(Op::Restart), Just(Op::Snaplen), Just(Op::Read)], 0..60)) {
            let mut s = Section::new();
            let mut sent = Vec::new();
            let mut open_restarts = 0;
            for op in ops {
                match op {
                    Op::Restart => {
                        if matches!(s.phase(), Phase::Records | Phase::Reheading) {
                            open_restarts += 1;
                        }
                        s.restart();
                    }
                    Op::Snaplen => s.new_header(),
                    Op::Read => read(&mut s, &mut sent),
                }
            }
            read(&mut s, &mut sent);
            read(&mut s, &mut sent);
            let mut in_section = false;
            for t in &sent {
                match *t {
                    Sent::Header { new_section: true, .. } => {
                        prop_assert!(!in_section);
                        in_section = true;
                    }
                    Sent::Header { new_section: false, snapshot } => prop_assert!(in_section && !snapshot),
                    Sent::Tail | Sent::Record => prop_assert!(in_section),
                    Sent::Eof => {
                        prop_assert!(in_section);
                        in_section = false;
                    }
                }
            }
            prop_assert!(in_section, "the last reads open a section");
            prop_assert_eq!(sent.iter().filter(|t| **t == Sent::Tail).count(), open_restarts);
            for w in sent.windows(2) {
                if w[0] == Sent::Tail {
                    prop_assert_eq!(w[1], Sent::Eof);
                }
                if w[0] == Sent::Eof {
                    prop_assert_eq!(w[1], Sent::Header { snapshot: true, new_section: true });
                }
            }
        }
    }
}
