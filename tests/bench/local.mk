# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmarks: what page-table sharing buys and what the shim costs.
#
#   make bench            the full sweep: shim overhead on the host and in
#                         the VM (host time, then instruction count), then the page-table scaling sweep in the VM (256 MiB,
#                         N = 1..64) twice: guest time = host time, and
#                         guest time = instruction count (QEMU -icount,
#                         results in $(BENCH_OUT)/icount); the extrapolation
#                         to a 300 GB SGA (page tables from the N = 1500
#                         sweep, first-touch times from the 1 GiB full touch
#                         on the instruction clock); results (CSV, PNG, logs) in
#                         $(BENCH_OUT)
#   make bench-scale      the sweep to the seeds' process counts: a 1 GiB
#                         segment, N = 1..1500, each process touching one
#                         page per 2 MiB (a whole set of PTE pages per stock
#                         process), stock and shim (SHM_HUGETLB would zero
#                         1 GiB per N under TCG), both guest clocks; results in
#                         $(BENCH_OUT)/scale and $(BENCH_OUT)/scale-icount;
#                         then the same 1 GiB segment touched in full (every
#                         page written) at N = 1,4,16, both clocks, in
#                         $(BENCH_OUT)/scale-full and scale-full-icount
#                         (also run by make bench)
#   make bench-tlb        reclaim's TLB shootdowns: memory.reclaim of a
#                         256 MiB shmem segment that 256 processes map,
#                         plain MAP_SHARED against an msharefs region, 4
#                         guest CPUs, four scenarios, NUMA balancing off
#                         and on, two runs each, both guest clocks: 64
#                         reclaims in two VM boots; results in
#                         $(BENCH_OUT)/tlb-reclaim (also run by make bench)
#   tests/bench/bench-quick.sh   the small CI variant (TAP), for the VM suite
#
# The programs are check_PROGRAMS so that "make check" builds them for the VM
# suite; "make bench" builds what it needs itself.

check_PROGRAMS += tests/bench/pt-scaling
tests_bench_pt_scaling_SOURCES = \
	$(tests_kernel_process_sources) \
	tests/bench/bench-clock.c \
	tests/bench/bench-clock.h \
	tests/bench/pt-scaling.c
tests_bench_pt_scaling_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/kernel

# The seeds' failure in miniature (the main job runs it in a small guest).
check_PROGRAMS += tests/bench/pt-oom
tests_bench_pt_oom_SOURCES = \
	$(tests_kernel_process_sources) \
	tests/bench/pt-oom.c
tests_bench_pt_oom_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/kernel

# Reclaim's TLB shootdowns: plain MAP_SHARED versus an msharefs region.
check_PROGRAMS += tests/bench/tlb-reclaim
tests_bench_tlb_reclaim_SOURCES = \
	tests/bench/bench-clock.c \
	tests/bench/bench-clock.h \
	tests/kernel/mshare-procfs.c \
	tests/kernel/mshare-procfs.h \
	tests/kernel/mshare-region.c \
	tests/kernel/mshare-region.h \
	tests/bench/tlb-reclaim.c
tests_bench_tlb_reclaim_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/kernel

check_PROGRAMS += tests/bench/shim-overhead
tests_bench_shim_overhead_SOURCES = \
	tests/bench/bench-clock.c \
	tests/bench/bench-clock.h \
	tests/bench/shim-overhead.c
tests_bench_shim_overhead_CFLAGS = $(AM_CFLAGS) -pthread
tests_bench_shim_overhead_LDFLAGS = -pthread
tests_bench_shim_overhead_LDADD = -ldl

dist_noinst_SCRIPTS += \
	tests/bench/run-pt-scaling.sh \
	tests/bench/run-shim-overhead.sh \
	tests/bench/run-tlb-reclaim.sh \
	tests/bench/bench-quick.sh \
	tests/bench/callgrind-mt.sh \
	tests/bench/extrapolate.sh

BENCH_OUT = $(abs_top_builddir)/bench-out
BENCH_DEPS = \
	tests/bench/pt-scaling$(EXEEXT) \
	tests/bench/shim-overhead$(EXEEXT) \
	shim/libmshare-shim.la

# The seeds' shape: 1500 processes; 6 GiB of guest memory holds stock's
# 3 GiB of page tables for it.
BENCH_SCALE_PROCS = 1,10,100,250,500,1000,1500
BENCH_SCALE_ARGS = --size 1024 --procs $(BENCH_SCALE_PROCS) --touch sparse \
	--modes stock,shim --mem 6144 --pt-target 500 --speed-target 0 --builddir '$(abs_top_builddir)'

# The same segment touched in full: every stock attacher faults 262144
# pages (seconds each under TCG), so N stays small.
BENCH_SCALE_FULL_ARGS = --size 1024 --procs 1,4,16 --touch write \
	--modes stock,shim --mem 4096 --pt-target 0 --speed-target 100 --builddir '$(abs_top_builddir)'

.PHONY: bench bench-quick bench-scale bench-tlb
bench: bench-scale bench-tlb
	@mkdir -p '$(BENCH_OUT)'
	rm -f '$(BENCH_OUT)/targets.txt'
	bash '$(srcdir)/tests/bench/run-shim-overhead.sh' \
		--builddir '$(abs_top_builddir)' --out '$(BENCH_OUT)'
	cd '$(abs_top_builddir)' && '$(abs_top_srcdir)/kernel/vm-run.sh' --timeout 1800 -- \
		bash '$(abs_top_srcdir)/tests/bench/run-shim-overhead.sh' \
		--builddir '$(abs_top_builddir)' --out /tmp/bench-overhead \
		| tee '$(BENCH_OUT)/shim-overhead-vm.txt'
	grep '^unmatched' '$(BENCH_OUT)/shim-overhead-vm.txt' >>'$(BENCH_OUT)/targets.txt'
	cd '$(abs_top_builddir)' && MSHARE_VM_ICOUNT=2 '$(abs_top_srcdir)/kernel/vm-run.sh' --timeout 1800 -- \
		bash '$(abs_top_srcdir)/tests/bench/run-shim-overhead.sh' \
		--builddir '$(abs_top_builddir)' --out /tmp/bench-overhead-icount \
		--label 'msharefs kernel, instruction clock' \
		| tee '$(BENCH_OUT)/shim-overhead-vm-icount.txt'
	grep '^unmatched' '$(BENCH_OUT)/shim-overhead-vm-icount.txt' >>'$(BENCH_OUT)/targets.txt'
	bash '$(srcdir)/tests/bench/run-pt-scaling.sh' \
		--builddir '$(abs_top_builddir)' --out '$(BENCH_OUT)'
	rm -f '$(BENCH_OUT)/icount/targets.txt'
	MSHARE_VM_ICOUNT=2 bash '$(srcdir)/tests/bench/run-pt-scaling.sh' \
		--builddir '$(abs_top_builddir)' --out '$(BENCH_OUT)/icount'
	sed 's/^/instruction-count clock: /' '$(BENCH_OUT)/icount/targets.txt' >>'$(BENCH_OUT)/targets.txt'
	sed 's/^/N=1500 sweep: /' '$(BENCH_OUT)/scale/targets.txt' >>'$(BENCH_OUT)/targets.txt'
	sed 's/^/1 GiB full touch, N=16: /' '$(BENCH_OUT)/scale-full/targets.txt' >>'$(BENCH_OUT)/targets.txt'
	cat '$(BENCH_OUT)/tlb-reclaim/targets.txt' >>'$(BENCH_OUT)/targets.txt'
	bash '$(srcdir)/tests/bench/extrapolate.sh' \
		--csv '$(BENCH_OUT)/scale-full-icount/pt-scaling.csv' \
		--memory-csv '$(BENCH_OUT)/scale/pt-scaling.csv' \
		| tee '$(BENCH_OUT)/extrapolation.txt'
	@echo; echo "Targets:"; cat '$(BENCH_OUT)/targets.txt'
	@echo "Results in $(BENCH_OUT)"

bench-scale: $(BENCH_DEPS)
	@mkdir -p '$(BENCH_OUT)/scale' '$(BENCH_OUT)/scale-icount'
	rm -f '$(BENCH_OUT)/scale/targets.txt' '$(BENCH_OUT)/scale-icount/targets.txt'
	bash '$(srcdir)/tests/bench/run-pt-scaling.sh' $(BENCH_SCALE_ARGS) \
		--out '$(BENCH_OUT)/scale'
	MSHARE_VM_ICOUNT=2 bash '$(srcdir)/tests/bench/run-pt-scaling.sh' \
		$(BENCH_SCALE_ARGS) --out '$(BENCH_OUT)/scale-icount'
	@mkdir -p '$(BENCH_OUT)/scale-full' '$(BENCH_OUT)/scale-full-icount'
	rm -f '$(BENCH_OUT)/scale-full/targets.txt' '$(BENCH_OUT)/scale-full-icount/targets.txt'
	bash '$(srcdir)/tests/bench/run-pt-scaling.sh' $(BENCH_SCALE_FULL_ARGS) \
		--out '$(BENCH_OUT)/scale-full'
	MSHARE_VM_ICOUNT=2 bash '$(srcdir)/tests/bench/run-pt-scaling.sh' \
		$(BENCH_SCALE_FULL_ARGS) --out '$(BENCH_OUT)/scale-full-icount'
	@echo; echo "Targets at N = 1500:"
	@cat '$(BENCH_OUT)/scale/targets.txt'
	@sed 's/^/instruction-count clock: /' '$(BENCH_OUT)/scale-icount/targets.txt'
	@echo; echo "1 GiB touched in full, N = 16:"
	@cat '$(BENCH_OUT)/scale-full/targets.txt'
	@sed 's/^/instruction-count clock: /' '$(BENCH_OUT)/scale-full-icount/targets.txt'

bench-tlb: tests/bench/tlb-reclaim$(EXEEXT)
	bash '$(srcdir)/tests/bench/run-tlb-reclaim.sh' \
		--builddir '$(abs_top_builddir)' --out '$(BENCH_OUT)/tlb-reclaim'

bench-quick: $(BENCH_DEPS)
	top_builddir='$(abs_top_builddir)' bash '$(srcdir)/tests/bench/bench-quick.sh'
