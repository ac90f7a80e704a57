/* dev_serial.c - COM1: a 16550A UART at 0x3f8 (dev_serial.h), what Linux's
 * 8250 driver probes and drives and what the freestanding guests poll.
 *
 * The transmitter is infinitely fast: a byte written to THR reaches the
 * console at once and THR is empty again (LSR THRE and TEMT always set),
 * so a THR-empty interrupt is raised again after every write. Nothing is
 * ever received but in loopback mode (MCR.LOOP), where THR writes go to
 * RBR and MSR mirrors MCR, as on the chip. The interrupt output is gated
 * by MCR.OUT2, as the PC wires it. Register behaviour from the PC16550D
 * datasheet. */
#include <string.h>

#include "console.h"
#include "devbus.h"

enum { R_RBR_THR = 0, R_IER = 1, R_IIR_FCR = 2, R_LCR = 3, R_MCR = 4, R_LSR = 5, R_MSR = 6, R_SCR };

#define IER_RDI     0x01 /* received data available */
#define IER_THRI    0x02 /* THR empty */
#define IER_RLSI    0x04 /* receiver line status */
#define IER_MSI     0x08 /* modem status */
#define IIR_NO_INT  0x01
#define IIR_MSI     0x00
#define IIR_THRI    0x02
#define IIR_RDI     0x04
#define IIR_FIFO    0xc0 /* FIFOs enabled (16550A) */
#define LCR_DLAB    0x80
#define MCR_DTR     0x01
#define MCR_RTS     0x02
#define MCR_OUT1    0x04
#define MCR_OUT2    0x08
#define MCR_LOOP    0x10
#define LSR_DR      0x01
#define LSR_THRE    0x20
#define LSR_TEMT    0x40
#define MSR_CTS     0x10
#define MSR_DSR     0x20
#define MSR_RI      0x40
#define MSR_DCD     0x80
#define MSR_CONNECT (MSR_CTS | MSR_DSR | MSR_DCD) /* a terminal is attached */

/* modem status inputs: mirrored from MCR in loopback, else a connected line */
static uint8_t msr_inputs(const struct serial_dev *s) {
  if (!(s->mcr & MCR_LOOP)) return MSR_CONNECT;
  uint8_t m = s->mcr;
  return (uint8_t)(((m & MCR_RTS) ? MSR_CTS : 0) | ((m & MCR_DTR) ? MSR_DSR : 0) |
                   ((m & MCR_OUT1) ? MSR_RI : 0) | ((m & MCR_OUT2) ? MSR_DCD : 0));
}

/* delta bits (dCTS dDSR TERI dDCD) for a change of the inputs */
static void note_inputs(struct serial_dev *s) {
  uint8_t now = msr_inputs(s), old = s->msr_last;
  uint8_t d = 0;
  if ((now ^ old) & MSR_CTS) d |= 0x01;
  if ((now ^ old) & MSR_DSR) d |= 0x02;
  if ((old & MSR_RI) && !(now & MSR_RI)) d |= 0x04; /* trailing edge of RI */
  if ((now ^ old) & MSR_DCD) d |= 0x08;
  s->msr_delta |= d;
  s->msr_last = now;
}

/* the highest-priority pending interrupt (IIR bits 3-0) */
static uint8_t pending(const struct serial_dev *s) {
  if ((s->ier & IER_RDI) && (s->lsr_dr)) return IIR_RDI;
  if ((s->ier & IER_THRI) && s->thre_int) return IIR_THRI;
  if ((s->ier & IER_MSI) && s->msr_delta) return IIR_MSI;
  return IIR_NO_INT;
}

static void update_irq(struct serial_dev *s) {
  bool level = (s->mcr & MCR_OUT2) && pending(s) != IIR_NO_INT && !(s->mcr & MCR_LOOP);
  if (level == s->irq_level) return;
  s->irq_level = level;
  if (s->irq) s->irq(s->irq_arg, level);
}

static void write_reg(struct serial_dev *s, unsigned reg, uint8_t v) {
  bool dlab = s->lcr & LCR_DLAB;
  switch (reg) {
  case R_RBR_THR:
    if (dlab) {
      s->dll = v;
      break;
    }
    if (s->mcr & MCR_LOOP) {
      s->rbr = v;
      s->lsr_dr = true;
    } else {
      console__write(s->con, &v, 1);
      s->bytes_out++;
    }
    s->thre_int = true; /* sent at once: THR is empty again */
    break;
  case R_IER:
    if (dlab) {
      s->dlm = v;
      break;
    }
    if (!(s->ier & IER_THRI) && (v & IER_THRI)) s->thre_int = true; /* THR is empty */
    s->ier = v & 0x0f;
    break;
  case R_IIR_FCR:
    s->fcr = v & 0xc9;
    if (v & 0x02) s->lsr_dr = false; /* clear the receive FIFO */
    break;
  case R_LCR:
    s->lcr = v;
    break;
  case R_MCR:
    s->mcr = v & 0x1f;
    note_inputs(s);
    break;
  case R_SCR:
    s->scr = v;
    break;
  default:
    break; /* LSR, MSR: writes have no effect here */
  }
}

static uint8_t read_reg(struct serial_dev *s, unsigned reg) {
  bool dlab = s->lcr & LCR_DLAB;
  switch (reg) {
  case R_RBR_THR:
    if (dlab) return s->dll;
    s->lsr_dr = false;
    return s->rbr;
  case R_IER:
    return dlab ? s->dlm : s->ier;
  case R_IIR_FCR: {
    uint8_t id = pending(s);
    if (id == IIR_THRI) s->thre_int = false; /* reading IIR clears a THR-empty interrupt */
    return (uint8_t)(id | ((s->fcr & 1) ? IIR_FIFO : 0));
  }
  case R_LCR:
    return s->lcr;
  case R_MCR:
    return s->mcr;
  case R_LSR:
    return (uint8_t)((s->lsr_dr ? LSR_DR : 0) | LSR_THRE | LSR_TEMT);
  case R_MSR: {
    uint8_t v = (uint8_t)(msr_inputs(s) | s->msr_delta);
    s->msr_delta = 0;
    return v;
  }
  default:
    return s->scr;
  }
}

static int serial_pio(struct vm *vm, void *opaque, uint16_t port, uint8_t size, bool write,
                      uint8_t *data) {
  (void)vm;
  struct serial_dev *s = opaque;
  unsigned reg = (unsigned)(port - VTB_PORT_SERIAL);
  /* a wider access touches the following registers, a byte each */
  for (uint8_t i = 0; i < size && reg + i < SERIAL_PORTS; i++) {
    if (write)
      write_reg(s, reg + i, data[i]);
    else
      data[i] = read_reg(s, reg + i);
  }
  if (!write)
    for (uint8_t i = (uint8_t)(SERIAL_PORTS - reg < size ? SERIAL_PORTS - reg : size); i < size;
         i++)
      data[i] = 0xff;
  update_irq(s);
  return 0;
}

int dev_serial__register(struct device_bus *bus, struct serial_dev *s, struct console *con,
                         char *err, size_t errlen) {
  memset(s, 0, sizeof *s);
  s->con = con;
  s->msr_last = msr_inputs(s);
  return devbus__register(bus, "serial", VTB_PORT_SERIAL, SERIAL_PORTS, serial_pio, s, err, errlen);
}

void dev_serial__set_irq(struct serial_dev *s, void (*irq)(void *arg, bool level), void *arg) {
  s->irq = irq;
  s->irq_arg = arg;
}
