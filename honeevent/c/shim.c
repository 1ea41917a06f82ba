// SPDX-License-Identifier: GPL-2.0
/* honeevent's C shim; see shim.h. */

#include <linux/device.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <linux/utsname.h>

#include "../../rust/kglue/c/hone_glue.c"
#include "shim.h"

static char *devname = "hone";
module_param(devname, charp, 0444);
MODULE_PARM_DESC(devname, "Device name: /dev/<devname> (PCAP-NG) and /dev/<devname>t (text); default hone");
static int major;
module_param(major, int, 0444);
MODULE_PARM_DESC(major, "Character device major, 0 for a dynamic one (then reads back the one in use)");
static char *hostid = "";
module_param(hostid, charp, 0444);
MODULE_PARM_DESC(hostid, "Host identifier in each section header: free text, or a GUID as {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}");
static char *comment = "";
module_param(comment, charp, 0444);
MODULE_PARM_DESC(comment, "Comment in each section header (\\040 or \\x20 for a space)");
static int snaplen;
module_param(snaplen, int, 0444);
MODULE_PARM_DESC(snaplen, "Bytes of each packet captured for new readers, 0 for whole packets (max 65535)");
static int pageorder = 3;
module_param(pageorder, int, 0444);
MODULE_PARM_DESC(pageorder, "Ring buffer of each reader is PAGE_SIZE << pageorder bytes (0-10, default 3)");

MODULE_VERSION(HONE_VERSION);
/*
 * `modprobe -r honeevent` takes the whole chain out, as users expect. kmod removes the
 * dependencies that became unused right after the module, but before kmod 31 only one level
 * deep: hone_notify goes, the three notifiers it held stay. A module's "pre" soft dependencies
 * kmod removes last of all, when hone_notify has released them. (Loading is unchanged: they
 * are honeevent's dependencies anyway.)
 */
MODULE_SOFTDEP("pre: process_notify socket_notify packet_notify");

const char *hone_param_devname(void) { return devname; }
int hone_param_major(void) { return major; }
const char *hone_param_hostid(void) { return hostid; }
const char *hone_param_comment(void) { return comment; }
int hone_param_snaplen(void) { return snaplen; }
int hone_param_pageorder(void) { return pageorder; }
void hone_param_set_major(int m) { major = m; }
const char *hone_version(void) { return HONE_VERSION; }

long hone_fd_sock_ino(int fd)
{
	struct socket *sock;
	long ino;
	int err;

	sock = sockfd_lookup(fd, &err);
	if (!sock)
		return err;
	ino = sock->sk ? sock_i_ino(sock->sk) : 0;
	sockfd_put(sock);
	return ino;
}

int hone_uname(char *buf, int len)
{
	struct new_utsname *u = init_utsname();
	int n = snprintf(buf, len, "%s %s %s %s %s", u->sysname, u->nodename, u->release,
			 u->version, u->machine);

	return min(n, len - 1);
}

/* What hone_chrdev_register() was given, for each open. */
static void *hone_chrdev_context;

static int hone_open(struct inode *inode, struct file *file)
{
	void *reader;
	int err = 0;

	if ((file->f_flags & O_ACCMODE) != O_RDONLY)
		return -EINVAL;
	/* A stream: no position, so lseek and pread fail with ESPIPE. */
	stream_open(inode, file);
	reader = hone_reader_open(iminor(inode), hone_chrdev_context, &err);
	if (!reader)
		return err;
	file->private_data = reader;
	return 0;
}

static ssize_t hone_read(struct file *file, char __user *buf, size_t len, loff_t *ppos)
{
	return hone_reader_read(file->private_data, buf, len, file->f_flags & O_NONBLOCK);
}

static long hone_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return hone_reader_ioctl(file->private_data, cmd, arg);
}

static __poll_t hone_poll(struct file *file, poll_table *wait)
{
	poll_wait(file, hone_reader_waitqueue(file->private_data), wait);
	return hone_reader_readable(file->private_data) ? EPOLLIN | EPOLLRDNORM : 0;
}

static int hone_release(struct inode *inode, struct file *file)
{
	hone_reader_release(file->private_data);
	return 0;
}

static const struct file_operations hone_fops = {
	.owner = THIS_MODULE,
	.open = hone_open,
	.read = hone_read,
	.poll = hone_poll,
	.unlocked_ioctl = hone_ioctl,
	/* Same numbers in 32-bit processes; SET_SNAPLEN's argument is a value, not a pointer. */
	.compat_ioctl = hone_ioctl,
	.release = hone_release,
};

int hone_chrdev_register(int major, const char *name, void *context, struct class **class_out)
{
	struct class *class;
	struct device *dev;
	int ret, m;

	/* Before the first open can come: a node of a static major may already exist. */
	hone_chrdev_context = context;
	ret = __register_chrdev(major, 0, 2, name, &hone_fops);
	if (ret < 0) {
		hone_chrdev_context = NULL;
		return ret;
	}
	m = major ? major : ret;
	class = class_create(name);
	if (IS_ERR(class)) {
		ret = PTR_ERR(class);
		goto out_chrdev;
	}
	dev = device_create(class, NULL, MKDEV(m, 0), NULL, "%s", name);
	if (IS_ERR(dev)) {
		ret = PTR_ERR(dev);
		goto out_class;
	}
	dev = device_create(class, NULL, MKDEV(m, 1), NULL, "%st", name);
	if (IS_ERR(dev)) {
		ret = PTR_ERR(dev);
		goto out_dev0;
	}
	*class_out = class;
	return m;

out_dev0:
	device_destroy(class, MKDEV(m, 0));
out_class:
	class_destroy(class);
out_chrdev:
	__unregister_chrdev(m, 0, 2, name);
	hone_chrdev_context = NULL;
	return ret;
}

void hone_chrdev_unregister(int major, const char *name, struct class *class)
{
	device_destroy(class, MKDEV(major, 1));
	device_destroy(class, MKDEV(major, 0));
	class_destroy(class);
	__unregister_chrdev(major, 0, 2, name);
	hone_chrdev_context = NULL;
}
