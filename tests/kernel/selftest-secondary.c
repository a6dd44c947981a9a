// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Secondary MMUs: KVM mirrors a process's page tables into its own (nested
 * page tables or shadow pages) and relies on the MMU notifiers of that
 * process's mm to drop a mirrored page before it is freed.  Region memory
 * changes in the region's host mm, so unless msharefs forwards those
 * changes to the attached mm, a guest keeps reading (and writing) a page
 * the region gave back: a use after free any user with /dev/kvm can reach.
 *
 * The guest here is a few real-mode instructions that read the byte at
 * guest-physical 0 (the region's first page) and report it through an
 * I/O port exit, over and over.
 *
 * HMM mirrors (RDMA on-demand paging, GPU shared virtual memory) read a
 * process's page tables with hmm_range_fault() instead; lib/test_hmm's
 * /dev/hmm_dmirror* device stands in for such a driver.
 */
#include "selftest.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define GUEST_CODE_GPA 0x1000
#define GUEST_PORT 0x10

/* mov al, [0x0000]; out 0x10, al; jmp back to the mov */
static const unsigned char guest_code[] = {
	0xa0, 0x00, 0x00, 0xe6, GUEST_PORT, 0xeb, 0xf9,
};

struct mini_vm {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	size_t run_size;
	void *code;
};

/*
 * Opens /dev/kvm; false (after st_skip) when this machine has none and the
 * VM suite did not ask for it (MSHARE_EXPECT_KVM=1 makes that a failure).
 */
static bool kvm_available(const char *test, int *kvm)
{
	const char *want = getenv("MSHARE_EXPECT_KVM");

	*kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (*kvm >= 0)
		return true;
	ck_assert_msg(!want || strcmp(want, "1") != 0,
		      "booted to test KVM, but /dev/kvm: %s", strerror(errno));
	st_skip(test, "/dev/kvm: %s (no KVM in this kernel or CPU)",
		strerror(errno));
	return false;
}

/* A VM whose guest-physical page 0 is the page at DATA. */
static void mini_vm_create(struct mini_vm *m, int kvm, void *data)
{
	struct kvm_userspace_memory_region slot = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	int size;

	m->kvm = kvm;
	m->vm = ioctl(kvm, KVM_CREATE_VM, 0);
	ck_assert_msg(m->vm >= 0, "KVM_CREATE_VM: %s", strerror(errno));

	m->code = mmap(NULL, ST_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(m->code, MAP_FAILED);
	memcpy(m->code, guest_code, sizeof(guest_code));

	slot.slot = 0;
	slot.guest_phys_addr = 0;
	slot.memory_size = ST_PAGE;
	slot.userspace_addr = (uintptr_t)data;
	ck_assert_msg(ioctl(m->vm, KVM_SET_USER_MEMORY_REGION, &slot) == 0,
		      "memory slot on the attachment: %s", strerror(errno));
	slot.slot = 1;
	slot.guest_phys_addr = GUEST_CODE_GPA;
	slot.userspace_addr = (uintptr_t)m->code;
	ck_assert_int_eq(ioctl(m->vm, KVM_SET_USER_MEMORY_REGION, &slot), 0);

	m->vcpu = ioctl(m->vm, KVM_CREATE_VCPU, 0);
	ck_assert_msg(m->vcpu >= 0, "KVM_CREATE_VCPU: %s", strerror(errno));
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	ck_assert_int_gt(size, 0);
	m->run_size = (size_t)size;
	m->run = mmap(NULL, m->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      m->vcpu, 0);
	ck_assert_ptr_ne(m->run, MAP_FAILED);

	/* Real mode, flat: CS:IP = 0:0x1000, DS = 0. */
	ck_assert_int_eq(ioctl(m->vcpu, KVM_GET_SREGS, &sregs), 0);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	ck_assert_int_eq(ioctl(m->vcpu, KVM_SET_SREGS, &sregs), 0);
	regs.rip = GUEST_CODE_GPA;
	regs.rflags = 2;
	ck_assert_int_eq(ioctl(m->vcpu, KVM_SET_REGS, &regs), 0);
}

/* Runs the guest to its next port write: the byte it read at gpa 0. */
static unsigned char mini_vm_read_byte(struct mini_vm *m)
{
	ck_assert_msg(ioctl(m->vcpu, KVM_RUN, 0) == 0, "KVM_RUN: %s",
		      strerror(errno));
	ck_assert_msg(m->run->exit_reason == KVM_EXIT_IO,
		      "guest exit %u, not the port write",
		      m->run->exit_reason);
	ck_assert_int_eq(m->run->io.port, GUEST_PORT);
	ck_assert_int_eq(m->run->io.direction, KVM_EXIT_IO_OUT);
	return *((unsigned char *)m->run + m->run->io.data_offset);
}

/*
 * Takes freshly freed pages and fills them with 0x5a, so that a guest still
 * mapping a page the region gave back reads 0x5a rather than, by chance,
 * the value written next into a new page that reused the same frame.
 */
#define HOG_SIZE (16 << 20)
static void *hog_freed_pages(void)
{
	void *hog = mmap(NULL, HOG_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	ck_assert_ptr_ne(hog, MAP_FAILED);
	memset(hog, 0x5a, HOG_SIZE);
	return hog;
}

/* The guest must read WANT after the region's page changed (STEP). */
static void expect_guest_reads(struct mini_vm *m, unsigned char want,
			       const char *step)
{
	unsigned char got = mini_vm_read_byte(m);

	ck_assert_msg(got == want,
		      "after %s the guest reads 0x%02x, not the new page's 0x%02x: it still maps the old page",
		      step, got, want);
}

static void mini_vm_destroy(struct mini_vm *m)
{
	munmap(m->run, m->run_size);
	close(m->vcpu);
	close(m->vm);
	munmap(m->code, ST_PAGE);
}

/*
 * A guest maps the region's page through the attachment.  The region then
 * lets that page go (a hole punched in the backing file; then
 * MSHAREFS_UNMAP and new memory in its place) and the attachment writes a
 * new value into the new page: the guest must read the new value, not the
 * old page.
 */
START_TEST(secondary_kvm_follows_region_changes)
{
	char path[ST_PATH_MAX];
	struct mini_vm m;
	unsigned char *p;
	void *hog;
	int kvm, fd, memfd, round;

	if (!kvm_available("secondary_kvm_follows_region_changes", &kvm))
		return;
	memfd = memfd_create("st-kvm", MFD_CLOEXEC);
	ck_assert_int_ge(memfd, 0);
	ck_assert_int_eq(ftruncate(memfd, ST_PAGE), 0);
	fd = st_region_sized(path, "kvm");
	ST_ASSERT_RC(mshare_map_file(fd, 0, ST_PAGE, PROT_READ | PROT_WRITE,
				     memfd, 0), 0);
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	p[0] = 0x11;

	mini_vm_create(&m, kvm, p);
	for (round = 0; round < 3; round++)
		ck_assert_int_eq(mini_vm_read_byte(&m), 0x11);

	/* The page leaves the backing file: the host's PTE goes. */
	ck_assert_int_eq(fallocate(memfd, FALLOC_FL_PUNCH_HOLE |
				   FALLOC_FL_KEEP_SIZE, 0, ST_PAGE), 0);
	hog = hog_freed_pages();
	p[0] = 0x22;
	expect_guest_reads(&m, 0x22, "a hole punch");
	munmap(hog, HOG_SIZE);

	/* The owner unmaps the memory and maps new memory in its place. */
	ST_ASSERT_RC(mshare_unmap(fd, 0, ST_PAGE), 0);
	hog = hog_freed_pages();
	ST_ASSERT_RC(mshare_map_anon(fd, 0, ST_PAGE, PROT_READ | PROT_WRITE),
		     0);
	p[0] = 0x33;
	expect_guest_reads(&m, 0x33, "MSHAREFS_UNMAP");
	munmap(hog, HOG_SIZE);

	mini_vm_destroy(&m);
	close(kvm);
	ck_assert_int_eq(munmap(p, st_align()), 0);
	close(memfd);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

/* lib/test_hmm_uapi.h (the kernel does not install it) */
struct hmm_dmirror_cmd {
	__u64 addr;
	__u64 ptr;
	__u64 npages;
	__u64 cpages;
	__u64 faults;
};

#define HMM_DMIRROR_READ _IOWR('H', 0x00, struct hmm_dmirror_cmd)
#define HMM_DMIRROR_DEVICE "/dev/hmm_dmirror0"

/*
 * Opens lib/test_hmm's mirror of this process; false (after st_skip) when
 * the kernel has none and the VM suite did not ask for it
 * (MSHARE_EXPECT_HMM=1 makes that a failure).
 */
static bool hmm_mirror_open(const char *test, int *dev)
{
	const char *want = getenv("MSHARE_EXPECT_HMM");

	*dev = open(HMM_DMIRROR_DEVICE, O_RDWR | O_CLOEXEC);
	if (*dev >= 0)
		return true;
	ck_assert_msg(!want || strcmp(want, "1") != 0,
		      "booted to test HMM, but %s: %s", HMM_DMIRROR_DEVICE,
		      strerror(errno));
	st_skip(test, "%s: %s (no CONFIG_TEST_HMM, or not root)",
		HMM_DMIRROR_DEVICE, strerror(errno));
	return false;
}

/* The device's read of one page at ADDR into BYTE; 0 or an errno. */
static int hmm_mirror_read(int dev, const void *addr, unsigned char *byte,
			   double *seconds)
{
	static unsigned char page[ST_PAGE];
	struct hmm_dmirror_cmd cmd = {
		.addr = (uintptr_t)addr,
		.ptr = (uintptr_t)page,
		.npages = 1,
	};
	struct timespec t0, t1;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = ioctl(dev, HMM_DMIRROR_READ, &cmd) == 0 ? 0 : errno;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*seconds = (double)(t1.tv_sec - t0.tv_sec) +
		   (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	*byte = page[0];
	return rc;
}

/*
 * hmm_range_fault() sees an attachment as a hole that a fault does not
 * fill (the pages are in the region's tables).  Before patch 0025 it
 * retried for ever: test_hmm gives up with EBUSY after its own 1 s
 * timeout, a real driver spins in the kernel.  It must fail with EFAULT,
 * as on a VM_IO mapping.  A plain shared mapping shows the device works.
 */
START_TEST(secondary_hmm_refuses_attachment)
{
	const char *test = "secondary_hmm_refuses_attachment";
	char path[ST_PATH_MAX];
	unsigned char *plain, *p, byte;
	double seconds;
	int dev, fd, rc;

	if (!hmm_mirror_open(test, &dev))
		return;
	plain = mmap(NULL, ST_PAGE, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(plain, MAP_FAILED);
	plain[0] = 0x5a;
	rc = hmm_mirror_read(dev, plain, &byte, &seconds);
	ck_assert_msg(rc == 0 && byte == 0x5a,
		      "the mirror of a plain shared mapping: %s, byte 0x%02x",
		      rc ? strerrorname_np(rc) : "0", byte);

	fd = st_region_anon(path, "hmm", ST_PAGE);
	p = st_attach(fd, PROT_READ | PROT_WRITE);
	p[0] = 0x5a;
	rc = hmm_mirror_read(dev, p, &byte, &seconds);
	fprintf(stderr, "# %s: HMM_DMIRROR_READ of an attachment: %s after %.3f s\n",
		test, rc ? strerrorname_np(rc) : "0", seconds);
	ck_assert_msg(rc == EFAULT,
		      "HMM_DMIRROR_READ of an attachment: want EFAULT, got %s after %.1f s",
		      rc ? strerrorname_np(rc) : "0", seconds);

	close(dev);
	ck_assert_int_eq(munmap(p, st_align()), 0);
	munmap(plain, ST_PAGE);
	ck_assert_int_eq(unlink(path), 0);
	close(fd);
}
END_TEST

void register_secondary_tests(void)
{
	/* A nested guest under QEMU's TCG: slow to start, fast afterwards. */
	static const struct selftest_group group = { "secondary", 300 };

	selftest_add(&group, secondary_kvm_follows_region_changes);
	selftest_add(&group, secondary_hmm_refuses_attachment);
}
