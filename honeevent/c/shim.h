/* SPDX-License-Identifier: GPL-2.0 */
/*
 * honeevent's C shim: module parameters, the character device and its file operations, which
 * call the Rust reader (hone_reader_*).
 */
#ifndef HONEEVENT_SHIM_H
#define HONEEVENT_SHIM_H

#include "../../rust/kglue/c/hone_glue.h"
#include "../../rust/kglue/c/hone_interface.h"

struct class;

/* Module parameters as given at load time. */
const char *hone_param_devname(void);
int hone_param_major(void);
const char *hone_param_hostid(void);
const char *hone_param_comment(void);
int hone_param_snaplen(void);
int hone_param_pageorder(void);
/* Publishes the major actually used in /sys/module/honeevent/parameters/major. */
void hone_param_set_major(int major);
/* The module's version string (from the VERSION file). */
const char *hone_version(void);

/* Inode number of the socket open as fd in the calling process, or -EBADF / -ENOTSOCK. */
long hone_fd_sock_ino(int fd);

/* "sysname nodename release version machine" of the initial UTS namespace; length written. */
int hone_uname(char *buf, int len);

/*
 * Registers major (0 = dynamic) with minors 0 (<name>, PCAP-NG) and 1 (<name>t, text), the
 * class <name> and both device nodes; each open gets context. Returns the major or -errno.
 */
int hone_chrdev_register(int major, const char *name, void *context, struct class **class_out);
void hone_chrdev_unregister(int major, const char *name, struct class *class);

/* Implemented in Rust. */
void *hone_reader_open(unsigned int minor, void *context, int *err);
ssize_t hone_reader_read(void *reader, char __user *buf, size_t len, bool nonblock);
long hone_reader_ioctl(void *reader, unsigned int cmd, unsigned long arg);
struct wait_queue_head *hone_reader_waitqueue(void *reader);
bool hone_reader_readable(void *reader);
void hone_reader_release(void *reader);

#endif
