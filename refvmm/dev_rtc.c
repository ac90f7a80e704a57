/* dev_rtc.c - the CMOS real-time clock (MC146818) at ports 0x70 (index)
 * and 0x71 (data): the time, BCD or binary, 24- or 12-hour, as register B
 * says; register A with the update-in-progress bit clear; register D valid;
 * 114 bytes of CMOS RAM. The clock starts at RTC_EPOCH when the guest
 * starts and runs with the guest's own time (the backend's clock: modeled
 * time on the model), so a run is reproducible. The alarm, periodic and
 * update interrupts are not wired (no IRQ 8 in the MP table): Linux reads
 * the time at boot and runs on the TSC afterwards. */
#include <string.h>
#include <time.h>

#include "devbus.h"
#include "platform_defs.h"

#define RTC_EPOCH 1735689600 /* 2025-01-01 00:00:00 UTC */

enum {
  R_SEC = 0x00,
  R_MIN = 0x02,
  R_HOUR = 0x04,
  R_WDAY = 0x06,
  R_MDAY = 0x07,
  R_MON = 0x08,
  R_YEAR = 0x09,
  R_A = 0x0a,
  R_B = 0x0b,
  R_C = 0x0c,
  R_D = 0x0d,
  R_CENTURY = 0x32,
};
#define B_SET    0x80 /* updates stopped: the guest sets the time */
#define B_BINARY 0x04
#define B_24H    0x02
#define A_RESET  0x26 /* 32.768 kHz time base, 1024 Hz rate; UIP (bit 7) clear */
#define D_VRT    0x80 /* valid RAM and time */

static uint8_t to_reg(const struct rtc_dev *r, int v) {
  return (r->regs[R_B] & B_BINARY) ? (uint8_t)v : (uint8_t)(((v / 10) << 4) | (v % 10));
}
static int from_reg(const struct rtc_dev *r, uint8_t v) {
  return (r->regs[R_B] & B_BINARY) ? v : (v >> 4) * 10 + (v & 0xf);
}

static int64_t now_s(const struct rtc_dev *r) {
  return RTC_EPOCH + r->offset_s + (int64_t)(r->now_ns(r->clock_arg) / 1000000000u);
}

/* the time registers from the running clock */
static void latch(struct rtc_dev *r) {
  time_t t = (time_t)now_s(r);
  struct tm tm;
  gmtime_r(&t, &tm);
  r->regs[R_SEC] = to_reg(r, tm.tm_sec);
  r->regs[R_MIN] = to_reg(r, tm.tm_min);
  if (r->regs[R_B] & B_24H) {
    r->regs[R_HOUR] = to_reg(r, tm.tm_hour);
  } else {
    int h = tm.tm_hour % 12;
    r->regs[R_HOUR] = (uint8_t)(to_reg(r, h ? h : 12) | (tm.tm_hour >= 12 ? 0x80 : 0));
  }
  r->regs[R_WDAY] = to_reg(r, tm.tm_wday + 1);
  r->regs[R_MDAY] = to_reg(r, tm.tm_mday);
  r->regs[R_MON] = to_reg(r, tm.tm_mon + 1);
  r->regs[R_YEAR] = to_reg(r, tm.tm_year % 100);
  r->regs[R_CENTURY] = to_reg(r, (tm.tm_year + 1900) / 100);
}

/* SET cleared: the registers the guest wrote become the time */
static void commit(struct rtc_dev *r) {
  struct tm tm = {0};
  tm.tm_sec = from_reg(r, r->regs[R_SEC]);
  tm.tm_min = from_reg(r, r->regs[R_MIN]);
  uint8_t h = r->regs[R_HOUR];
  if (r->regs[R_B] & B_24H)
    tm.tm_hour = from_reg(r, h);
  else
    tm.tm_hour = from_reg(r, h & 0x7f) % 12 + ((h & 0x80) ? 12 : 0);
  tm.tm_mday = from_reg(r, r->regs[R_MDAY]);
  tm.tm_mon = from_reg(r, r->regs[R_MON]) - 1;
  tm.tm_year = from_reg(r, r->regs[R_CENTURY]) * 100 + from_reg(r, r->regs[R_YEAR]) - 1900;
  time_t t = timegm(&tm);
  if (t != (time_t)-1) r->offset_s += (int64_t)t - now_s(r);
}

static int rtc_pio(struct vm *vm, void *opaque, uint16_t port, uint8_t size, bool write,
                   uint8_t *data) {
  (void)vm;
  struct rtc_dev *r = opaque;
  if (port == PLATFORM_RTC_PORT) {
    if (write)
      r->index = data[0] & 0x7f; /* bit 7 masks NMIs: there is no NMI source to mask */
    else
      memset(data, 0xff, size); /* the index port cannot be read back */
    return 0;
  }
  unsigned i = r->index;
  if (write) {
    uint8_t v = data[0];
    switch (i) {
    case R_A:
      r->regs[R_A] = v & 0x7f;
      break;
    case R_B:
      if ((r->regs[R_B] & B_SET) && !(v & B_SET)) {
        r->regs[R_B] = v;
        commit(r);
      } else {
        if (!(r->regs[R_B] & B_SET) && (v & B_SET)) latch(r); /* editing starts from now */
        r->regs[R_B] = v;
      }
      break;
    case R_C:
    case R_D:
      break; /* read-only */
    default:
      r->regs[i] = v;
      break;
    }
    return 0;
  }
  if (i <= R_YEAR || i == R_CENTURY) {
    if (!(r->regs[R_B] & B_SET)) latch(r);
  }
  uint8_t v = r->regs[i];
  if (i == R_C) r->regs[R_C] = 0; /* reading C clears the interrupt flags */
  if (i == R_D) v = D_VRT;
  memset(data, 0, size);
  data[0] = v;
  return 0;
}

int dev_rtc__register(struct device_bus *bus, struct rtc_dev *r, uint64_t (*now_ns)(void *arg),
                      void *arg, char *err, size_t errlen) {
  memset(r, 0, sizeof *r);
  r->now_ns = now_ns;
  r->clock_arg = arg;
  r->regs[R_A] = A_RESET;
  r->regs[R_B] = B_24H;
  r->regs[R_D] = D_VRT;
  return devbus__register(bus, "rtc", PLATFORM_RTC_PORT, 2, rtc_pio, r, err, errlen);
}
