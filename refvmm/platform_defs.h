/* platform_defs.h - where the devices of refvmm's PC platform for a Linux
 * guest live (platform.h): addresses, ids, ports, interrupt lines. */
#ifndef REFVMM_PLATFORM_DEFS_H
#define REFVMM_PLATFORM_DEFS_H

#define PLATFORM_LAPIC_GPA   0xfee00000ull /* local APIC registers (xAPIC MMIO) */
#define PLATFORM_LAPIC_ID    0u
#define PLATFORM_LAPIC_VER   0x14u /* integrated APIC, version 0x14 */
#define PLATFORM_IOAPIC_GPA  0xfec00000ull
#define PLATFORM_IOAPIC_ID   1u
#define PLATFORM_IOAPIC_VER  0x11u
#define PLATFORM_IOAPIC_PINS 24u
#define PLATFORM_UART_IRQ    4u     /* COM1: ISA IRQ 4 = I/O APIC pin 4 */
#define PLATFORM_UART_PORT   0x3f8u /* COM1 */
#define PLATFORM_RTC_PORT    0x70u  /* CMOS index; data at 0x71 */
#define PLATFORM_KBC_PORT    0x64u  /* keyboard controller command port: 0xfe pulses reset */

#endif
