// SPDX-License-Identifier: GPL-2.0

//! honeevent: Hone's character devices.
//!
//! `/dev/<devname>` streams PCAP-NG (Section Header, Interface Description, Process Event
//! blocks 0x101, Connection Event Blocks 0x102, Enhanced Packet Blocks with connection id, pid
//! and direction, Interface
//! Statistics blocks where a reader lost events) and `/dev/<devname>t` the same events as text
//! lines. Every open is an independent reader with its own ring of
//! `PAGE_SIZE << pageorder` bytes, fed by hone_notify; a reader first gets a section header and a
//! snapshot of the processes already running, each followed by its open inet sockets, then live
//! events. Reads may be of any size (a
//! record is continued on the next read), blocking or `O_NONBLOCK`, and `poll` works. When a
//! ring is full, events are dropped, counted, and the loss is reported in the stream where it
//! happened. Opening for writing fails with `EINVAL`.
//!
//! Parameters (validated at load; a bad value fails the load with `EINVAL`): `devname`,
//! `major`, `hostid`, `comment`, `snaplen`, `pageorder`.

use core::ffi::c_void;
use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::bindings;
use kernel::c_str;
use kernel::ffi::{c_char, c_int};
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::str::CStr;
use kernel::sync::{Arc, Mutex};
use kernel::types::Opaque;
use kernel::uaccess::{UserSlice, UserSliceWriter};

// Shared with the other modules, each of which uses a part.
#[path = "../../rust/hone/src"]
#[allow(dead_code, unreachable_pub)]
mod hone {
    pub mod cursor;
    pub mod ip;
    pub mod params;
    pub mod pcapng;
    pub mod record;
    pub mod ring;
    pub mod text;
}

#[path = "../../rust/kglue"]
#[allow(dead_code, unreachable_pub)]
mod kglue {
    pub mod event;
    pub mod irqlock;
    pub mod stream;
    pub mod subscription;
}

#[allow(non_camel_case_types, non_upper_case_globals, dead_code, improper_ctypes, missing_docs, unreachable_pub)]
mod shim {
    include!("../../rust/kglue/shim_types.rs");
    include!("shim_bindings.rs");
}

use hone::cursor::{Cursor, Full};
use hone::params::{self, HostId, ParamError};
use hone::pcapng::{self, SectionInfo};
use hone::ring::{Entry, Ring};
use hone::text;
use kglue::stream::{hone_notify_snapshot, HoneSource};
use kglue::event::HoneEvent;
use kglue::irqlock::IrqSpinLock;
use kglue::subscription::{Subscriber, Subscription};

module! {
    type: HoneEventModule,
    name: "honeevent",
    author: "Hone developers",
    description: "Hone: PCAP-NG and text devices streaming process, socket and packet events",
    license: "GPL",
}

/// Size of a reader's formatting buffer: the largest record (a text exec line with a
/// `PATH_MAX` path and a 16 KiB argument list, every byte escaped to four) fits.
const FORMAT_BUF: usize = 96 * 1024;
/// Most bytes of a packet captured, whatever the snaplen (a GSO packet can be larger).
const MAX_CAPTURE: u32 = 65535;
/// Largest comment kept for the section header.
const MAX_COMMENT: usize = 1024;

fn param_bytes(ptr: *const c_char) -> &'static [u8] {
    if ptr.is_null() {
        return &[];
    }
    // SAFETY: module parameters are NUL-terminated strings that live as long as the module.
    unsafe { CStr::from_char_ptr(ptr) }.as_bytes()
}

/// Validated module parameters.
struct Config {
    devname: &'static CStr,
    major: i32,
    hostid: HostId<'static>,
    comment: KVec<u8>,
    snaplen: u32,
    pageorder: u32,
    userappl: KVec<u8>,
}

fn refuse(name: &str, why: &str) -> Error {
    pr_err!("invalid parameter {}: {}\n", name, why);
    EINVAL
}

impl Config {
    fn from_params() -> Result<Self> {
        // SAFETY: the getters only read the parameters' storage; no precondition.
        let (devname_ptr, major, hostid, comment, snaplen, pageorder, version) = unsafe {
            (
                shim::hone_param_devname(),
                shim::hone_param_major(),
                shim::hone_param_hostid(),
                shim::hone_param_comment(),
                shim::hone_param_snaplen(),
                shim::hone_param_pageorder(),
                shim::hone_version(),
            )
        };
        if devname_ptr.is_null() {
            return Err(refuse("devname", "must not be empty"));
        }
        // SAFETY: as in `param_bytes`.
        let devname = unsafe { CStr::from_char_ptr(devname_ptr) };
        params::check_devname(devname.as_bytes())
            .map_err(|_| refuse("devname", "must be 1-30 characters without '/', spaces or control characters"))?;
        if !(0..=511).contains(&major) {
            return Err(refuse("major", "must be 0 (dynamic) or 1-511"));
        }
        let hostid = params::parse_hostid(param_bytes(hostid)).map_err(|e| match e {
            ParamError::BadGuid => refuse("hostid", "a value starting with '{' must be a GUID {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}"),
            _ => refuse("hostid", "must be at most 255 characters without control characters"),
        })?;
        let snaplen = params::check_range(snaplen, params::MAX_SNAPLEN)
            .map_err(|_| refuse("snaplen", "must be 0 (whole packets) to 65535"))?;
        let pageorder = params::check_range(pageorder, params::MAX_PAGEORDER)
            .map_err(|_| refuse("pageorder", "must be 0 to 10"))?;
        let raw_comment = param_bytes(comment);
        if raw_comment.len() > MAX_COMMENT {
            return Err(refuse("comment", "must be at most 1024 characters"));
        }
        let mut comment = KVec::from_elem(0u8, raw_comment.len(), GFP_KERNEL)?;
        let n = params::unescape_comment(raw_comment, &mut comment);
        comment.truncate_to(n);
        let mut userappl = KVec::new();
        userappl.extend_from_slice(b"Hone ", GFP_KERNEL)?;
        userappl.extend_from_slice(param_bytes(version), GFP_KERNEL)?;
        Ok(Config { devname, major, hostid, comment, snaplen, pageorder, userappl })
    }
}

/// Shrinking a byte vector to a length it already covers.
trait TruncateTo {
    fn truncate_to(&mut self, n: usize);
}

impl TruncateTo for KVec<u8> {
    fn truncate_to(&mut self, n: usize) {
        if n <= self.len() {
            // SAFETY: shrinking over initialised bytes.
            unsafe { self.set_len(n) };
        }
    }
}

static CONFIG: AtomicPtr<Config> = AtomicPtr::new(null_mut());

fn config() -> &'static Config {
    // `CONFIG` is set before the devices exist and cleared after they are gone, and readers
    // hold a module reference (fops owner).
    // SAFETY: so every reader callback sees it set.
    unsafe { &*CONFIG.load(Ordering::Acquire) }
}

/// The registered character device, class and nodes; dropping removes them.
struct ChrDev {
    major: i32,
    name: &'static CStr,
    class: *mut bindings::class,
}

impl ChrDev {
    fn register(major: i32, name: &'static CStr) -> Result<Self> {
        let mut class = null_mut();
        // SAFETY: `name` lives as long as the module; `class` is a valid out-pointer.
        let ret = unsafe { shim::hone_chrdev_register(major, name.as_char_ptr(), &mut class) };
        if ret < 0 {
            pr_err!("cannot register character device {} (major {}): error {}\n", name, major, ret);
            return Err(Error::from_errno(ret));
        }
        Ok(ChrDev { major: ret, name, class })
    }
}

impl Drop for ChrDev {
    fn drop(&mut self) {
        // SAFETY: undoes exactly the successful `register`.
        unsafe { shim::hone_chrdev_unregister(self.major, self.name.as_char_ptr(), self.class) };
    }
}

// SAFETY: the class pointer is only used to unregister, once, from the module's exit.
unsafe impl Send for ChrDev {}
// SAFETY: `&ChrDev` gives no access to the class.
unsafe impl Sync for ChrDev {}

/// Output format of a reader, chosen by the minor number.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Pcapng,
    Text,
}

type Slots = KVVec<Option<Entry<HoneEvent>>>;

/// The part of a reader that hone_notify's callbacks reach: its ring and wait queue.
#[pin_data]
struct Shared {
    #[pin]
    ring: IrqSpinLock<Ring<HoneEvent, Slots>>,
    #[pin]
    wq: Opaque<bindings::wait_queue_head>,
}

// SAFETY: the wait queue head is only used through the kernel's wait-queue functions, which
// lock it themselves; the ring is behind its own lock.
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

impl Shared {
    fn wq(&self) -> *mut bindings::wait_queue_head {
        self.wq.get()
    }

    fn has_events(&self) -> bool {
        !self.ring.lock().is_empty()
    }
}

/// Queues hone_notify's events into a reader's ring.
struct RingFeeder(Arc<Shared>);

impl Subscriber<HoneEvent> for RingFeeder {
    fn notify(&self, event: &HoneEvent) {
        let rejected = self.0.ring.lock().push(event.clone(), event.class()).err();
        // Dropped outside the lock: the last reference frees the event.
        if rejected.is_none() {
            // SAFETY: the wait queue was initialised when `Shared` was made.
            unsafe { shim::hone_waitqueue_wake(self.0.wq()) };
        }
        drop(rejected);
    }
}

/// What a reader's `read` works through, under its mutex.
struct Stream {
    /// The section header (SHB+IDB or HEAD line) is still to be sent.
    head_pending: bool,
    /// Processes that were running at open, sent after the head.
    snapshot: KVec<HoneEvent>,
    snapshot_next: usize,
    /// The record being sent, `buf[sent..len]` still to go.
    buf: KVVec<u8>,
    len: usize,
    sent: usize,
    open_ns: u64,
    snaplen: u32,
}

/// One open file of a Hone device.
#[pin_data]
struct Reader {
    format: Format,
    feeder: Subscription<HoneSource, RingFeeder>,
    shared: Arc<Shared>,
    #[pin]
    stream: Mutex<Stream>,
}

fn wall_offset_ns() -> i64 {
    // SAFETY: reads the clock offsets; callable from any context.
    unsafe { shim::hone_clock_real_offset_ns() }
}

fn mono_ns() -> u64 {
    // SAFETY: reads the monotonic clock; callable from any context.
    unsafe { shim::hone_clock_mono_ns() }
}

/// Monotonic ns to microseconds since the epoch (PCAP-NG's default resolution).
fn wall_us(mono: u64) -> u64 {
    mono.saturating_add_signed(wall_offset_ns()) / 1000
}

unsafe extern "C" fn collect_snapshot(data: *mut c_void, event: *const c_void) -> bool {
    // SAFETY: `data` is the vector passed by `Reader::open`, alive for the walk.
    let list = unsafe { &mut *(data as *mut KVec<HoneEvent>) };
    // SAFETY: hone_notify lends `&HoneEvent` for the call.
    let event = unsafe { &*(event as *const HoneEvent) };
    list.push(event.clone(), GFP_KERNEL).is_ok()
}

unsafe extern "C" fn shared_has_events(data: *mut c_void) -> bool {
    // SAFETY: `data` is the reader's `Shared`, which the waiting reader keeps alive.
    let shared = unsafe { &*(data as *const Shared) };
    shared.has_events()
}

impl Reader {
    fn open(minor: u32) -> Result<Pin<KBox<Reader>>> {
        let cfg = config();
        let format = if minor == 1 { Format::Text } else { Format::Pcapng };
        let bytes = (bindings::PAGE_SIZE as usize) << cfg.pageorder;
        let n = bytes / core::mem::size_of::<Option<Entry<HoneEvent>>>();
        let mut slots = Slots::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            slots.push(None, GFP_KERNEL)?;
        }
        let ring = Ring::new(slots).ok_or(ENOMEM)?;
        let shared = Arc::pin_init(
            pin_init!(Shared {
                ring <- kernel::sync::lock::Lock::new(ring, c_str!("hone_reader_ring"), kernel::static_lock_class!()),
                // SAFETY: `slot` is valid for writes and pinned inside the new `Shared`.
                wq <- Opaque::ffi_init(|slot| unsafe { shim::hone_waitqueue_init(slot) }),
            }),
            GFP_KERNEL,
        )?;
        // Live events queue from here on; the snapshot taken next may repeat a process that
        // started in between, but none is missed.
        let feeder = Subscription::new(RingFeeder(shared.clone()))?;
        let mut snapshot = KVec::new();
        // SAFETY: `collect_snapshot` matches the callback type and `snapshot` outlives the call.
        let ret = unsafe { hone_notify_snapshot(Some(collect_snapshot), &mut snapshot as *mut KVec<HoneEvent> as *mut c_void) };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        let buf = KVVec::from_elem(0u8, FORMAT_BUF, GFP_KERNEL)?;
        let stream = Stream {
            head_pending: true,
            snapshot,
            snapshot_next: 0,
            buf,
            len: 0,
            sent: 0,
            open_ns: mono_ns(),
            snaplen: cfg.snaplen,
        };
        KBox::pin_init(
            pin_init!(Reader {
                format,
                feeder,
                shared,
                stream <- new_mutex!(stream),
            }),
            GFP_KERNEL,
        )
    }

    fn readable(&self) -> bool {
        let s = self.stream.lock();
        s.sent < s.len || s.head_pending || s.snapshot_next < s.snapshot.len() || self.shared.has_events()
    }

    fn read(&self, out: &mut UserSliceWriter, nonblock: bool) -> Result<usize> {
        loop {
            let copied = self.fill(&mut self.stream.lock(), out)?;
            if copied > 0 {
                return Ok(copied);
            }
            if nonblock {
                return Err(EAGAIN);
            }
            let shared = &*self.shared as *const Shared as *mut c_void;
            // `shared_has_events` does not sleep and `self.shared` outlives the wait.
            // SAFETY: and the wait queue is initialised.
            let ret = unsafe { shim::hone_waitqueue_wait(self.shared.wq(), Some(shared_has_events), shared) };
            if ret != 0 {
                return Err(Error::from_errno(ret));
            }
        }
    }

    /// Copies records into `out` until it is full or nothing is left; a record that does not fit
    /// is continued by the next read.
    fn fill(&self, s: &mut Stream, out: &mut UserSliceWriter) -> Result<usize> {
        let mut copied = 0;
        loop {
            if s.sent < s.len {
                let chunk = (s.len - s.sent).min(out.len());
                if chunk == 0 {
                    break;
                }
                if let Err(e) = out.write_slice(&s.buf[s.sent..s.sent + chunk]) {
                    return if copied > 0 { Ok(copied) } else { Err(e) };
                }
                s.sent += chunk;
                copied += chunk;
                continue;
            }
            if out.is_empty() || !self.next_record(s) {
                break;
            }
        }
        Ok(copied)
    }

    /// Formats the next record into the stream's buffer; false if there is none.
    fn next_record(&self, s: &mut Stream) -> bool {
        enum Next {
            Head,
            Event(HoneEvent),
            Lost(hone::record::Counts, hone::record::Counts),
        }
        let next = if s.head_pending {
            s.head_pending = false;
            Next::Head
        } else if let Some(ev) = s.snapshot.get(s.snapshot_next) {
            let ev = ev.clone();
            s.snapshot_next += 1;
            if s.snapshot_next == s.snapshot.len() {
                s.snapshot = KVec::new();
                s.snapshot_next = 0;
            }
            Next::Event(ev)
        } else {
            let mut ring = self.shared.ring.lock();
            match ring.pop() {
                None => return false,
                Some(Entry::Event(ev)) => Next::Event(ev),
                Some(Entry::Lost(gap)) => Next::Lost(gap, ring.dropped()),
            }
        };
        let cfg = config();
        let open_ns = s.open_ns;
        let snaplen = s.snaplen;
        let mut c = Cursor::new(&mut s.buf);
        let written: Result<(), Full> = match (self.format, &next) {
            (Format::Pcapng, Next::Head) => {
                let mut os = [0u8; 512];
                // SAFETY: `os` is valid for its length.
                let n = unsafe { shim::hone_uname(os.as_mut_ptr(), os.len() as c_int) };
                let os = &os[..usize::try_from(n).unwrap_or(0).min(os.len())];
                let info = SectionInfo { hostid: cfg.hostid, os, userappl: &cfg.userappl, comment: &cfg.comment };
                pcapng::section_header(&mut c, &info).and_then(|_| pcapng::interface_description(&mut c, snaplen))
            }
            (Format::Text, Next::Head) => {
                text::head(&mut c, open_ns, u64::try_from(wall_offset_ns()).unwrap_or(0), &cfg.hostid)
            }
            (Format::Pcapng, Next::Event(HoneEvent::Process(p))) => pcapng::process_block(&mut c, &p.record(), wall_us(p.ts_ns)),
            (Format::Text, Next::Event(HoneEvent::Process(p))) => text::process(&mut c, p.ts_ns, &p.record()),
            (Format::Pcapng, Next::Event(HoneEvent::Socket(e))) => {
                pcapng::connection_block(&mut c, &e.record, wall_us(e.ts_ns))
            }
            (Format::Text, Next::Event(HoneEvent::Socket(e))) => text::socket(&mut c, e.ts_ns, &e.record),
            (Format::Pcapng, Next::Event(HoneEvent::Packet(p))) => {
                let caplen = pcapng::captured_len(p.record.len.min(MAX_CAPTURE), snaplen);
                pcapng::packet_block(&mut c, &p.record, wall_us(p.ts_ns), caplen, |d| {
                    if p.copy(0, d) {
                        Ok(())
                    } else {
                        Err(Full)
                    }
                })
            }
            (Format::Text, Next::Event(HoneEvent::Packet(p))) => {
                let mut header = [0u8; 128];
                let n = (p.record.len as usize).min(header.len());
                let header = if p.copy(0, &mut header[..n]) { &header[..n] } else { &header[..0] };
                text::packet(&mut c, p.ts_ns, &p.record, header)
            }
            (Format::Pcapng, Next::Lost(_, total)) => pcapng::loss_statistics(&mut c, wall_us(mono_ns()), total),
            (Format::Text, Next::Lost(gap, _)) => text::lost(&mut c, mono_ns(), gap),
        };
        let len = c.len();
        // A record larger than the buffer cannot happen (see FORMAT_BUF); should it, the
        // partial bytes are not sent and the stream stays well-formed.
        s.len = if written.is_ok() { len } else { 0 };
        s.sent = 0;
        true
    }
}

/// `open` of a Hone device: a new reader, or null with `*err` set.
///
/// # Safety
///
/// `err` must be valid for writes.
#[no_mangle]
pub unsafe extern "C" fn hone_reader_open(minor: u32, err: *mut c_int) -> *mut c_void {
    match Reader::open(minor) {
        // SAFETY: the reader stays pinned: it is only turned back into a box by `release`.
        Ok(r) => KBox::into_raw(unsafe { Pin::into_inner_unchecked(r) }) as *mut c_void,
        Err(e) => {
            // SAFETY: the caller guarantees `err`.
            unsafe { *err = e.to_errno() };
            null_mut()
        }
    }
}

/// Borrows the reader behind a file's private data.
///
/// # Safety
///
/// `reader` must come from `hone_reader_open` and not be released yet.
unsafe fn reader_ref<'a>(reader: *mut c_void) -> &'a Reader {
    // SAFETY: guaranteed by the caller.
    unsafe { &*(reader as *const Reader) }
}

/// `read`: copies up to `len` bytes of the stream; blocks unless `nonblock`.
///
/// # Safety
///
/// `reader` as for `reader_ref`; `buf` is a user pointer.
#[no_mangle]
pub unsafe extern "C" fn hone_reader_read(reader: *mut c_void, buf: *mut c_char, len: usize, nonblock: bool) -> isize {
    if len == 0 {
        return 0;
    }
    // SAFETY: guaranteed by the caller.
    let reader = unsafe { reader_ref(reader) };
    let mut out = UserSlice::new(buf as usize, len).writer();
    match reader.read(&mut out, nonblock) {
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `poll`: the reader's wait queue.
///
/// # Safety
///
/// As for `reader_ref`.
#[no_mangle]
pub unsafe extern "C" fn hone_reader_waitqueue(reader: *mut c_void) -> *mut bindings::wait_queue_head {
    // SAFETY: guaranteed by the caller.
    unsafe { reader_ref(reader) }.shared.wq()
}

/// `poll`: whether a read would return data at once.
///
/// # Safety
///
/// As for `reader_ref`.
#[no_mangle]
pub unsafe extern "C" fn hone_reader_readable(reader: *mut c_void) -> bool {
    // SAFETY: guaranteed by the caller.
    unsafe { reader_ref(reader) }.readable()
}

/// `release`: unsubscribes the reader and frees it with everything it still holds.
///
/// # Safety
///
/// `reader` must come from `hone_reader_open`; it is not used again.
#[no_mangle]
pub unsafe extern "C" fn hone_reader_release(reader: *mut c_void) {
    // SAFETY: guaranteed by the caller: this is the box `hone_reader_open` leaked.
    drop(unsafe { KBox::from_raw(reader as *mut Reader) });
}

struct HoneEventModule {
    _device: ChrDev,
    _config: KBox<Config>,
}

impl kernel::Module for HoneEventModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let config = KBox::new(Config::from_params()?, GFP_KERNEL)?;
        CONFIG.store(&*config as *const Config as *mut Config, Ordering::Release);
        let device = match ChrDev::register(config.major, config.devname) {
            Ok(d) => d,
            Err(e) => {
                CONFIG.store(null_mut(), Ordering::Release);
                return Err(e);
            }
        };
        // SAFETY: writes the parameter's storage; no reader of it runs concurrently with init.
        unsafe { shim::hone_param_set_major(device.major) };
        pr_info!(
            "{} loaded: /dev/{} and /dev/{}t, major {}\n",
            kernel::str::BStr::from_bytes(&config.userappl),
            config.devname,
            config.devname,
            device.major
        );
        Ok(HoneEventModule { _device: device, _config: config })
    }
}

impl Drop for HoneEventModule {
    fn drop(&mut self) {
        // The fields (device, then config) are dropped after this body. No reader exists any
        // more (each holds a module reference) and no new open can reach this module while it
        // is going away, so nothing reads `CONFIG` from here on.
        CONFIG.store(null_mut(), Ordering::Release);
    }
}
