# linux.mk - the Linux guest's image set (included by the Makefile; docs/LINUX.md):
#   workloads/build/linux/init       PID 1: runs one workload, reports, powers off
#   workloads/build/linux/vtb-true   forkexec's exec target
#   workloads/build/linux/vtb-cc     make's compiler and linker
#   workloads/build/linux/initramfs.cpio  all three, newc format
# Static programs without a C library, built with the guest flags (general
# registers only), linked at the default addresses; the initramfs is written
# by workloads/linux/host/mkinitramfs (a host tool). The kernel they boot
# under is Debian's, fetched by make deps (scripts/kvm_amd/fetch.sh).

LX_SRC := workloads/linux
LX_OUT := workloads/build/linux
LX_CFLAGS := $(GUEST_CFLAGS) -I$(LX_SRC)
LX_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,noexecstack
LX_HDRS := $(wildcard $(LX_SRC)/*.h workloads/rt/*.h)
# the runtime's freestanding printf and string routines, used as they are
LX_LIB_SRC := $(LX_SRC)/start.S $(LX_SRC)/lxlib.c $(LX_SRC)/lx_hc.c $(LX_SRC)/lx_mem.c \
              workloads/rt/printf.c workloads/rt/kstring.c
LX_LIB_OBJ := $(patsubst %,$(LX_OUT)/obj/%.o,$(LX_LIB_SRC))
LX_INIT_SRC := $(LX_SRC)/init.c $(LX_SRC)/cmdline.c $(LX_SRC)/table.c $(wildcard $(LX_SRC)/wl/*.c)
LX_INIT_OBJ := $(patsubst %,$(LX_OUT)/obj/%.o,$(LX_INIT_SRC))
LX_PROGS := $(LX_OUT)/init $(LX_OUT)/vtb-true $(LX_OUT)/vtb-cc
LX_INITRAMFS := $(LX_OUT)/initramfs.cpio
LX_MKINITRAMFS := $(LX_OUT)/mkinitramfs

.PHONY: linux-guest
linux-guest: $(LX_INITRAMFS)
all: linux-guest

$(LX_OUT)/obj/%.c.o: %.c $(LX_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(LX_CFLAGS) -c -o $@ $<
$(LX_OUT)/obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(LX_CFLAGS) -c -o $@ $<

$(LX_OUT)/init: $(LX_INIT_OBJ) $(LX_LIB_OBJ)
	$(GUEST_CC) $(LX_CFLAGS) $(LX_LDFLAGS) -o $@ $^
$(LX_OUT)/vtb-cc: $(LX_OUT)/obj/$(LX_SRC)/progs/cc.c.o $(LX_LIB_OBJ)
	$(GUEST_CC) $(LX_CFLAGS) $(LX_LDFLAGS) -o $@ $^
# the smallest program: no library beyond the entry
$(LX_OUT)/vtb-true: $(LX_OUT)/obj/$(LX_SRC)/progs/true.c.o $(LX_OUT)/obj/$(LX_SRC)/start.S.o
	$(GUEST_CC) $(LX_CFLAGS) $(LX_LDFLAGS) -o $@ $^

$(LX_MKINITRAMFS): $(LX_SRC)/host/mkinitramfs.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<

# The archive holds the programs without debug information (less for the
# kernel to unpack and load; the unstripped ones stay next to it for gdb).
$(LX_INITRAMFS): $(LX_PROGS) $(LX_MKINITRAMFS) $(LX_SRC)/linux.mk
	@mkdir -p $(LX_OUT)/stripped
	for p in $(notdir $(LX_PROGS)); do strip -o $(LX_OUT)/stripped/$$p $(LX_OUT)/$$p || exit 1; done
	$(LX_MKINITRAMFS) $@ dir:dev:755 nod:dev/console:600:c:5:1 dir:proc:555 dir:sys:555 \
	  dir:tmp:1777 dir:bin:755 file:init:755:$(LX_OUT)/stripped/init \
	  file:bin/vtb-true:755:$(LX_OUT)/stripped/vtb-true file:bin/vtb-cc:755:$(LX_OUT)/stripped/vtb-cc

# make install: the initramfs next to the workload images, where vtbench looks
# (share/vtbench/workloads/linux/initramfs.cpio).
.PHONY: install-linux-guest
install: install-linux-guest
install-linux-guest: $(LX_INITRAMFS)
	install -d $(DESTDIR)$(PREFIX)/share/vtbench/workloads/linux
	install -m 644 $(LX_INITRAMFS) $(DESTDIR)$(PREFIX)/share/vtbench/workloads/linux/
