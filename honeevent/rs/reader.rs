// SPDX-License-Identifier: GPL-2.0

//! One open file of a Hone device: its queue, fed by hone_notify (`queue`), the stream its reads
//! send (`output`) and the ioctls that steer it (`ioctls`).
//!
//! A reader's stream is a sequence of sections (`rust/hone/src/section.rs`). Each starts with a
//! header (SHB and IDB, or a `HEAD` line) and a snapshot of the running processes and their
//! sockets, followed by live events from the ring. `RESTART` ends the section with statistics
//! (an Interface Statistics Block, or a `TAIL` line), makes one read return 0 (end of file), and
//! starts a new section, so a file cut at every restart is complete on its own; a record is
//! never cut by it.

use core::sync::atomic::Ordering;
use kernel::ffi::c_long;
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::{Arc, Mutex};

use crate::kglue::device::DeviceFile;
use crate::kglue::hone_event::HoneChain;
use crate::kglue::subscription::Subscription;
use crate::kglue::waitqueue::{WaitQueue, Waker};
use crate::output::{Stream, UserOut};
use crate::queue::{Counted, RingFeeder, Shared};
use crate::Config;

/// One open file of a Hone device.
#[pin_data]
pub(crate) struct Reader {
    config: Arc<Config>,
    _counted: Counted,
    feeder: Subscription<HoneChain, RingFeeder>,
    pub(crate) shared: Arc<Shared>,
    #[pin]
    pub(crate) stream: Mutex<Stream>,
}

impl Reader {
    fn open(minor: u32, config: &Arc<Config>) -> Result<Pin<KBox<Reader>>> {
        let shared = Shared::new(config.pageorder)?;
        // Live events queue from here on; the snapshot the stream takes next may repeat a
        // process that started in between, but none is missed.
        let feeder = Subscription::new(RingFeeder { waker: Waker::new(shared.clone())? })?;
        let stream = Stream::new(minor, config.snaplen)?;
        KBox::pin_init(
            pin_init!(Reader {
                config: config.clone(),
                _counted: Counted::new(),
                feeder,
                shared,
                stream <- new_mutex!(stream),
            }),
            GFP_KERNEL,
        )
    }

    fn readable(&self) -> bool {
        self.stream.lock().has_records() || self.shared.has_events()
    }

    fn read_into(&self, out: &mut UserOut, nonblock: bool) -> Result<usize> {
        loop {
            {
                let mut s = self.stream.lock();
                self.shared.kicked.store(false, Ordering::Release);
                let (copied, end) = s.fill(&self.shared, &self.config, out)?;
                if copied > 0 {
                    return Ok(copied);
                }
                if end {
                    // The end of file between two sections, returned once.
                    s.section.end_of_file_returned();
                    return Ok(0);
                }
            }
            if nonblock {
                return Err(EAGAIN);
            }
            self.shared.wq.wait_until(&|| self.shared.has_events())?;
        }
    }
}

impl DeviceFile for Reader {
    type Context = Arc<Config>;

    fn open(minor: u32, config: &Arc<Config>) -> Result<Pin<KBox<Reader>>> {
        Reader::open(minor, config)
    }

    fn read(&self, addr: usize, len: usize, nonblock: bool) -> Result<usize> {
        self.read_into(&mut UserOut::new(addr, len), nonblock)
    }

    fn ioctl(&self, cmd: u32, arg: usize) -> Result<c_long> {
        Reader::ioctl(self, cmd, arg)
    }

    fn wait_queue(&self) -> &WaitQueue {
        &self.shared.wq
    }

    fn readable(&self) -> bool {
        Reader::readable(self)
    }
}

crate::device_file_entries!(Reader);
