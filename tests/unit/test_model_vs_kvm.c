/* test_model_vs_kvm.c - differential test: each snippet runs in ring 3 on
 * KVM (where this host's hardware executes ring 3 natively: the oracle) and
 * on the model, from the same register states (edge values and random
 * ones) and the same memory; all general registers, the defined RFLAGS bits,
 * the delivered vector, the exception frame and the touched memory must
 * agree. Ring-0 code (a trampoline that IRETQs to the snippet, and HLT
 * stubs per vector) is identical on both. Skips without /dev/kvm. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_model_harness.h"

enum dkind {
  K_FULL,
  K_LOGIC,
  K_ROT,
  K_ROT1,
  K_ROT13,
  K_SHIFT,
  K_SHIFT1,
  K_SHIFT7,
  K_SHXD,
  K_SHXD5,
  K_MUL,
  K_DIV,
  K_BSF,
  K_CNT,
  K_BT
};
struct dcase {
  const char *name;
  const uint8_t *code;
  size_t len;
  enum dkind kind;
  int width; /* operand bytes */
  bool mem;  /* rbx points into the data area */
};

/* generated differential cases (GNU as), see test_model_vs_kvm.c */
static const uint8_t dcode_0[] = {0x00, 0xd8};
static const uint8_t dcode_1[] = {0x66, 0x01, 0xd8};
static const uint8_t dcode_2[] = {0x01, 0xd8};
static const uint8_t dcode_3[] = {0x48, 0x01, 0xd8};
static const uint8_t dcode_4[] = {0x00, 0xdc};
static const uint8_t dcode_5[] = {0x05, 0x78, 0x56, 0x34, 0x12};
static const uint8_t dcode_6[] = {0x48, 0x83, 0xc2, 0xfd};
static const uint8_t dcode_7[] = {0x01, 0x03};
static const uint8_t dcode_8[] = {0x02, 0x43, 0x01};
static const uint8_t dcode_9[] = {0x08, 0xd8};
static const uint8_t dcode_10[] = {0x66, 0x09, 0xd8};
static const uint8_t dcode_11[] = {0x09, 0xd8};
static const uint8_t dcode_12[] = {0x48, 0x09, 0xd8};
static const uint8_t dcode_13[] = {0x08, 0xdc};
static const uint8_t dcode_14[] = {0x0d, 0x78, 0x56, 0x34, 0x12};
static const uint8_t dcode_15[] = {0x48, 0x83, 0xca, 0xfd};
static const uint8_t dcode_16[] = {0x09, 0x03};
static const uint8_t dcode_17[] = {0x0a, 0x43, 0x01};
static const uint8_t dcode_18[] = {0x10, 0xd8};
static const uint8_t dcode_19[] = {0x66, 0x11, 0xd8};
static const uint8_t dcode_20[] = {0x11, 0xd8};
static const uint8_t dcode_21[] = {0x48, 0x11, 0xd8};
static const uint8_t dcode_22[] = {0x10, 0xdc};
static const uint8_t dcode_23[] = {0x15, 0x78, 0x56, 0x34, 0x12};
static const uint8_t dcode_24[] = {0x48, 0x83, 0xd2, 0xfd};
static const uint8_t dcode_25[] = {0x11, 0x03};
static const uint8_t dcode_26[] = {0x12, 0x43, 0x01};
static const uint8_t dcode_27[] = {0x18, 0xd8};
static const uint8_t dcode_28[] = {0x66, 0x19, 0xd8};
static const uint8_t dcode_29[] = {0x19, 0xd8};
static const uint8_t dcode_30[] = {0x48, 0x19, 0xd8};
static const uint8_t dcode_31[] = {0x18, 0xdc};
static const uint8_t dcode_32[] = {0x1d, 0x78, 0x56, 0x34, 0x12};
static const uint8_t dcode_33[] = {0x48, 0x83, 0xda, 0xfd};
static const uint8_t dcode_34[] = {0x19, 0x03};
static const uint8_t dcode_35[] = {0x1a, 0x43, 0x01};
static const uint8_t dcode_36[] = {0x20, 0xd8};
static const uint8_t dcode_37[] = {0x66, 0x21, 0xd8};
static const uint8_t dcode_38[] = {0x21, 0xd8};
static const uint8_t dcode_39[] = {0x48, 0x21, 0xd8};
static const uint8_t dcode_40[] = {0x20, 0xdc};
static const uint8_t dcode_41[] = {0x25, 0x78, 0x56, 0x34, 0x12};
static const uint8_t dcode_42[] = {0x48, 0x83, 0xe2, 0xfd};
static const uint8_t dcode_43[] = {0x21, 0x03};
static const uint8_t dcode_44[] = {0x22, 0x43, 0x01};
static const uint8_t dcode_45[] = {0x28, 0xd8};
static const uint8_t dcode_46[] = {0x66, 0x29, 0xd8};
static const uint8_t dcode_47[] = {0x29, 0xd8};
static const uint8_t dcode_48[] = {0x48, 0x29, 0xd8};
static const uint8_t dcode_49[] = {0x28, 0xdc};
static const uint8_t dcode_50[] = {0x2d, 0x78, 0x56, 0x34, 0x12};
static const uint8_t dcode_51[] = {0x48, 0x83, 0xea, 0xfd};
static const uint8_t dcode_52[] = {0x29, 0x03};
static const uint8_t dcode_53[] = {0x2a, 0x43, 0x01};
static const uint8_t dcode_54[] = {0x30, 0xd8};
static const uint8_t dcode_55[] = {0x66, 0x31, 0xd8};
static const uint8_t dcode_56[] = {0x31, 0xd8};
static const uint8_t dcode_57[] = {0x48, 0x31, 0xd8};
static const uint8_t dcode_58[] = {0x30, 0xdc};
static const uint8_t dcode_59[] = {0x35, 0x78, 0x56, 0x34, 0x12};
static const uint8_t dcode_60[] = {0x48, 0x83, 0xf2, 0xfd};
static const uint8_t dcode_61[] = {0x31, 0x03};
static const uint8_t dcode_62[] = {0x32, 0x43, 0x01};
static const uint8_t dcode_63[] = {0x38, 0xd8};
static const uint8_t dcode_64[] = {0x66, 0x39, 0xd8};
static const uint8_t dcode_65[] = {0x39, 0xd8};
static const uint8_t dcode_66[] = {0x48, 0x39, 0xd8};
static const uint8_t dcode_67[] = {0x38, 0xdc};
static const uint8_t dcode_68[] = {0x3d, 0x78, 0x56, 0x34, 0x12};
static const uint8_t dcode_69[] = {0x48, 0x83, 0xfa, 0xfd};
static const uint8_t dcode_70[] = {0x39, 0x03};
static const uint8_t dcode_71[] = {0x3a, 0x43, 0x01};
static const uint8_t dcode_72[] = {0x84, 0xd8};
static const uint8_t dcode_73[] = {0x66, 0x85, 0xd8};
static const uint8_t dcode_74[] = {0x85, 0xd8};
static const uint8_t dcode_75[] = {0x48, 0x85, 0xd8};
static const uint8_t dcode_76[] = {0x84, 0xdc};
static const uint8_t dcode_77[] = {0xa9, 0x01, 0x00, 0x00, 0x80};
static const uint8_t dcode_78[] = {0x48, 0xf7, 0xc2, 0xfd, 0xff, 0xff, 0xff};
static const uint8_t dcode_79[] = {0x85, 0x03};
static const uint8_t dcode_80[] = {0xfe, 0xc0};
static const uint8_t dcode_81[] = {0x66, 0xff, 0xc0};
static const uint8_t dcode_82[] = {0xff, 0xc0};
static const uint8_t dcode_83[] = {0x48, 0xff, 0xc0};
static const uint8_t dcode_84[] = {0x48, 0xff, 0x03};
static const uint8_t dcode_85[] = {0xfe, 0xc8};
static const uint8_t dcode_86[] = {0x66, 0xff, 0xc8};
static const uint8_t dcode_87[] = {0xff, 0xc8};
static const uint8_t dcode_88[] = {0x48, 0xff, 0xc8};
static const uint8_t dcode_89[] = {0x48, 0xff, 0x0b};
static const uint8_t dcode_90[] = {0xf6, 0xd8};
static const uint8_t dcode_91[] = {0x66, 0xf7, 0xd8};
static const uint8_t dcode_92[] = {0xf7, 0xd8};
static const uint8_t dcode_93[] = {0x48, 0xf7, 0xd8};
static const uint8_t dcode_94[] = {0x48, 0xf7, 0x1b};
static const uint8_t dcode_95[] = {0xf6, 0xd0};
static const uint8_t dcode_96[] = {0x66, 0xf7, 0xd0};
static const uint8_t dcode_97[] = {0xf7, 0xd0};
static const uint8_t dcode_98[] = {0x48, 0xf7, 0xd0};
static const uint8_t dcode_99[] = {0xd2, 0xc0};
static const uint8_t dcode_100[] = {0xd0, 0xc0};
static const uint8_t dcode_101[] = {0x66, 0xd3, 0xc0};
static const uint8_t dcode_102[] = {0x66, 0xd1, 0xc0};
static const uint8_t dcode_103[] = {0xd3, 0xc0};
static const uint8_t dcode_104[] = {0xd1, 0xc0};
static const uint8_t dcode_105[] = {0x48, 0xd3, 0xc0};
static const uint8_t dcode_106[] = {0x48, 0xd1, 0xc0};
static const uint8_t dcode_107[] = {0xc1, 0xc0, 0x0d};
static const uint8_t dcode_108[] = {0xd2, 0xc8};
static const uint8_t dcode_109[] = {0xd0, 0xc8};
static const uint8_t dcode_110[] = {0x66, 0xd3, 0xc8};
static const uint8_t dcode_111[] = {0x66, 0xd1, 0xc8};
static const uint8_t dcode_112[] = {0xd3, 0xc8};
static const uint8_t dcode_113[] = {0xd1, 0xc8};
static const uint8_t dcode_114[] = {0x48, 0xd3, 0xc8};
static const uint8_t dcode_115[] = {0x48, 0xd1, 0xc8};
static const uint8_t dcode_116[] = {0xc1, 0xc8, 0x0d};
static const uint8_t dcode_117[] = {0xd2, 0xd0};
static const uint8_t dcode_118[] = {0xd0, 0xd0};
static const uint8_t dcode_119[] = {0x66, 0xd3, 0xd0};
static const uint8_t dcode_120[] = {0x66, 0xd1, 0xd0};
static const uint8_t dcode_121[] = {0xd3, 0xd0};
static const uint8_t dcode_122[] = {0xd1, 0xd0};
static const uint8_t dcode_123[] = {0x48, 0xd3, 0xd0};
static const uint8_t dcode_124[] = {0x48, 0xd1, 0xd0};
static const uint8_t dcode_125[] = {0xc1, 0xd0, 0x0d};
static const uint8_t dcode_126[] = {0xd2, 0xd8};
static const uint8_t dcode_127[] = {0xd0, 0xd8};
static const uint8_t dcode_128[] = {0x66, 0xd3, 0xd8};
static const uint8_t dcode_129[] = {0x66, 0xd1, 0xd8};
static const uint8_t dcode_130[] = {0xd3, 0xd8};
static const uint8_t dcode_131[] = {0xd1, 0xd8};
static const uint8_t dcode_132[] = {0x48, 0xd3, 0xd8};
static const uint8_t dcode_133[] = {0x48, 0xd1, 0xd8};
static const uint8_t dcode_134[] = {0xc1, 0xd8, 0x0d};
static const uint8_t dcode_135[] = {0xd2, 0xe0};
static const uint8_t dcode_136[] = {0xd0, 0xe0};
static const uint8_t dcode_137[] = {0x66, 0xd3, 0xe0};
static const uint8_t dcode_138[] = {0x66, 0xd1, 0xe0};
static const uint8_t dcode_139[] = {0xd3, 0xe0};
static const uint8_t dcode_140[] = {0xd1, 0xe0};
static const uint8_t dcode_141[] = {0x48, 0xd3, 0xe0};
static const uint8_t dcode_142[] = {0x48, 0xd1, 0xe0};
static const uint8_t dcode_143[] = {0x48, 0xc1, 0xe0, 0x07};
static const uint8_t dcode_144[] = {0x66, 0xd3, 0x23};
static const uint8_t dcode_145[] = {0xd2, 0xe8};
static const uint8_t dcode_146[] = {0xd0, 0xe8};
static const uint8_t dcode_147[] = {0x66, 0xd3, 0xe8};
static const uint8_t dcode_148[] = {0x66, 0xd1, 0xe8};
static const uint8_t dcode_149[] = {0xd3, 0xe8};
static const uint8_t dcode_150[] = {0xd1, 0xe8};
static const uint8_t dcode_151[] = {0x48, 0xd3, 0xe8};
static const uint8_t dcode_152[] = {0x48, 0xd1, 0xe8};
static const uint8_t dcode_153[] = {0x48, 0xc1, 0xe8, 0x07};
static const uint8_t dcode_154[] = {0x66, 0xd3, 0x2b};
static const uint8_t dcode_155[] = {0xd2, 0xf8};
static const uint8_t dcode_156[] = {0xd0, 0xf8};
static const uint8_t dcode_157[] = {0x66, 0xd3, 0xf8};
static const uint8_t dcode_158[] = {0x66, 0xd1, 0xf8};
static const uint8_t dcode_159[] = {0xd3, 0xf8};
static const uint8_t dcode_160[] = {0xd1, 0xf8};
static const uint8_t dcode_161[] = {0x48, 0xd3, 0xf8};
static const uint8_t dcode_162[] = {0x48, 0xd1, 0xf8};
static const uint8_t dcode_163[] = {0x48, 0xc1, 0xf8, 0x07};
static const uint8_t dcode_164[] = {0x66, 0xd3, 0x3b};
static const uint8_t dcode_165[] = {0x0f, 0xa5, 0xd8};
static const uint8_t dcode_166[] = {0x0f, 0xa4, 0xd8, 0x05};
static const uint8_t dcode_167[] = {0x48, 0x0f, 0xa5, 0xd8};
static const uint8_t dcode_168[] = {0x48, 0x0f, 0xa4, 0xd8, 0x05};
static const uint8_t dcode_169[] = {0x0f, 0xad, 0xd8};
static const uint8_t dcode_170[] = {0x0f, 0xac, 0xd8, 0x05};
static const uint8_t dcode_171[] = {0x48, 0x0f, 0xad, 0xd8};
static const uint8_t dcode_172[] = {0x48, 0x0f, 0xac, 0xd8, 0x05};
static const uint8_t dcode_173[] = {0xf6, 0xe3};
static const uint8_t dcode_174[] = {0xf6, 0xeb};
static const uint8_t dcode_175[] = {0xf6, 0xf3};
static const uint8_t dcode_176[] = {0xf6, 0xfb};
static const uint8_t dcode_177[] = {0xf6, 0xf3};
static const uint8_t dcode_178[] = {0x66, 0xf7, 0xe3};
static const uint8_t dcode_179[] = {0x66, 0xf7, 0xeb};
static const uint8_t dcode_180[] = {0x31, 0xd2, 0x66, 0xf7, 0xf3};
static const uint8_t dcode_181[] = {0x66, 0xf7, 0xfb};
static const uint8_t dcode_182[] = {0x66, 0xf7, 0xf3};
static const uint8_t dcode_183[] = {0xf7, 0xe3};
static const uint8_t dcode_184[] = {0xf7, 0xeb};
static const uint8_t dcode_185[] = {0x31, 0xd2, 0xf7, 0xf3};
static const uint8_t dcode_186[] = {0xf7, 0xfb};
static const uint8_t dcode_187[] = {0xf7, 0xf3};
static const uint8_t dcode_188[] = {0x48, 0xf7, 0xe3};
static const uint8_t dcode_189[] = {0x48, 0xf7, 0xeb};
static const uint8_t dcode_190[] = {0x31, 0xd2, 0x48, 0xf7, 0xf3};
static const uint8_t dcode_191[] = {0x48, 0xf7, 0xfb};
static const uint8_t dcode_192[] = {0x48, 0xf7, 0xf3};
static const uint8_t dcode_193[] = {0x66, 0x0f, 0xaf, 0xc3};
static const uint8_t dcode_194[] = {0x66, 0x6b, 0xc3, 0xf9};
static const uint8_t dcode_195[] = {0x66, 0x69, 0xc3, 0x34, 0x12};
static const uint8_t dcode_196[] = {0x66, 0x0f, 0xbc, 0xc3};
static const uint8_t dcode_197[] = {0x66, 0x0f, 0xbd, 0xc3};
static const uint8_t dcode_198[] = {0x66, 0xf3, 0x0f, 0xbc, 0xc3};
static const uint8_t dcode_199[] = {0x66, 0xf3, 0x0f, 0xbd, 0xc3};
static const uint8_t dcode_200[] = {0x66, 0xf3, 0x0f, 0xb8, 0xc3};
static const uint8_t dcode_201[] = {0x66, 0x0f, 0xa3, 0xd8};
static const uint8_t dcode_202[] = {0x66, 0x0f, 0xba, 0xe0, 0x09};
static const uint8_t dcode_203[] = {0x66, 0x0f, 0xab, 0xd8};
static const uint8_t dcode_204[] = {0x66, 0x0f, 0xba, 0xe8, 0x09};
static const uint8_t dcode_205[] = {0x66, 0x0f, 0xb3, 0xd8};
static const uint8_t dcode_206[] = {0x66, 0x0f, 0xba, 0xf0, 0x09};
static const uint8_t dcode_207[] = {0x66, 0x0f, 0xbb, 0xd8};
static const uint8_t dcode_208[] = {0x66, 0x0f, 0xba, 0xf8, 0x09};
static const uint8_t dcode_209[] = {0x66, 0x0f, 0xc1, 0xd8};
static const uint8_t dcode_210[] = {0x66, 0x0f, 0xb1, 0xd9};
static const uint8_t dcode_211[] = {0x66, 0x93};
static const uint8_t dcode_212[] = {0x0f, 0xaf, 0xc3};
static const uint8_t dcode_213[] = {0x6b, 0xc3, 0xf9};
static const uint8_t dcode_214[] = {0x69, 0xc3, 0x34, 0x12, 0x00, 0x00};
static const uint8_t dcode_215[] = {0x0f, 0xbc, 0xc3};
static const uint8_t dcode_216[] = {0x0f, 0xbd, 0xc3};
static const uint8_t dcode_217[] = {0xf3, 0x0f, 0xbc, 0xc3};
static const uint8_t dcode_218[] = {0xf3, 0x0f, 0xbd, 0xc3};
static const uint8_t dcode_219[] = {0xf3, 0x0f, 0xb8, 0xc3};
static const uint8_t dcode_220[] = {0x0f, 0xa3, 0xd8};
static const uint8_t dcode_221[] = {0x0f, 0xba, 0xe0, 0x09};
static const uint8_t dcode_222[] = {0x0f, 0xab, 0xd8};
static const uint8_t dcode_223[] = {0x0f, 0xba, 0xe8, 0x09};
static const uint8_t dcode_224[] = {0x0f, 0xb3, 0xd8};
static const uint8_t dcode_225[] = {0x0f, 0xba, 0xf0, 0x09};
static const uint8_t dcode_226[] = {0x0f, 0xbb, 0xd8};
static const uint8_t dcode_227[] = {0x0f, 0xba, 0xf8, 0x09};
static const uint8_t dcode_228[] = {0x0f, 0xc1, 0xd8};
static const uint8_t dcode_229[] = {0x0f, 0xb1, 0xd9};
static const uint8_t dcode_230[] = {0x93};
static const uint8_t dcode_231[] = {0x48, 0x0f, 0xaf, 0xc3};
static const uint8_t dcode_232[] = {0x48, 0x6b, 0xc3, 0xf9};
static const uint8_t dcode_233[] = {0x48, 0x69, 0xc3, 0x34, 0x12, 0x00, 0x00};
static const uint8_t dcode_234[] = {0x48, 0x0f, 0xbc, 0xc3};
static const uint8_t dcode_235[] = {0x48, 0x0f, 0xbd, 0xc3};
static const uint8_t dcode_236[] = {0xf3, 0x48, 0x0f, 0xbc, 0xc3};
static const uint8_t dcode_237[] = {0xf3, 0x48, 0x0f, 0xbd, 0xc3};
static const uint8_t dcode_238[] = {0xf3, 0x48, 0x0f, 0xb8, 0xc3};
static const uint8_t dcode_239[] = {0x48, 0x0f, 0xa3, 0xd8};
static const uint8_t dcode_240[] = {0x48, 0x0f, 0xba, 0xe0, 0x09};
static const uint8_t dcode_241[] = {0x48, 0x0f, 0xab, 0xd8};
static const uint8_t dcode_242[] = {0x48, 0x0f, 0xba, 0xe8, 0x09};
static const uint8_t dcode_243[] = {0x48, 0x0f, 0xb3, 0xd8};
static const uint8_t dcode_244[] = {0x48, 0x0f, 0xba, 0xf0, 0x09};
static const uint8_t dcode_245[] = {0x48, 0x0f, 0xbb, 0xd8};
static const uint8_t dcode_246[] = {0x48, 0x0f, 0xba, 0xf8, 0x09};
static const uint8_t dcode_247[] = {0x48, 0x0f, 0xc1, 0xd8};
static const uint8_t dcode_248[] = {0x48, 0x0f, 0xb1, 0xd9};
static const uint8_t dcode_249[] = {0x48, 0x93};
static const uint8_t dcode_250[] = {0x0f, 0xab, 0x0b};
static const uint8_t dcode_251[] = {0x48, 0x0f, 0xbb, 0x0b};
static const uint8_t dcode_252[] = {0x48, 0x0f, 0xb1, 0x0b};
static const uint8_t dcode_253[] = {0x0f, 0xc1, 0x03};
static const uint8_t dcode_254[] = {0x0f, 0x90, 0xc1};
static const uint8_t dcode_255[] = {0x0f, 0x40, 0xc3};
static const uint8_t dcode_256[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x70, 0x05,
                                    0xb8, 0x02, 0x00, 0x00, 0x00, 0x90};
static const uint8_t dcode_257[] = {0x0f, 0x91, 0xc1};
static const uint8_t dcode_258[] = {0x0f, 0x41, 0xc3};
static const uint8_t dcode_259[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x71, 0x05,
                                    0xb8, 0x02, 0x00, 0x00, 0x00, 0x90};
static const uint8_t dcode_260[] = {0x0f, 0x92, 0xc1};
static const uint8_t dcode_261[] = {0x0f, 0x42, 0xc3};
static const uint8_t dcode_262[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x72, 0x05,
                                    0xb8, 0x02, 0x00, 0x00, 0x00, 0x90};
static const uint8_t dcode_263[] = {0x0f, 0x93, 0xc1};
static const uint8_t dcode_264[] = {0x0f, 0x43, 0xc3};
static const uint8_t dcode_265[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x73, 0x05,
                                    0xb8, 0x02, 0x00, 0x00, 0x00, 0x90};
static const uint8_t dcode_266[] = {0x0f, 0x94, 0xc1};
static const uint8_t dcode_267[] = {0x0f, 0x44, 0xc3};
static const uint8_t dcode_268[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x74, 0x05,
                                    0xb8, 0x02, 0x00, 0x00, 0x00, 0x90};
static const uint8_t dcode_269[] = {0x0f, 0x95, 0xc1};
static const uint8_t dcode_270[] = {0x0f, 0x45, 0xc3};
static const uint8_t dcode_271[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x75, 0x05,
                                    0xb8, 0x02, 0x00, 0x00, 0x00, 0x90};
static const uint8_t dcode_272[] = {0x0f, 0x96, 0xc1};
static const uint8_t dcode_273[] = {0x0f, 0x46, 0xc3};
static const uint8_t dcode_274[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x76, 0x05,
                                    0xb8, 0x02, 0x00, 0x00, 0x00, 0x90};
static const uint8_t dcode_275[] = {0x0f, 0x97, 0xc1};
static const uint8_t dcode_276[] = {0x0f, 0x47, 0xc3};
static const uint8_t dcode_277[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x77, 0x05,
                                    0xb8, 0x02, 0x00, 0x00, 0x00, 0x90};
static const uint8_t dcode_278[] = {0x0f, 0x98, 0xc1};
static const uint8_t dcode_279[] = {0x0f, 0x48, 0xc3};
static const uint8_t dcode_280[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x78, 0x05,
                                    0xb8, 0x02, 0x00, 0x00, 0x00, 0x90};
static const uint8_t dcode_281[] = {0x0f, 0x99, 0xc1};
static const uint8_t dcode_282[] = {0x0f, 0x49, 0xc3};
static const uint8_t dcode_283[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x79, 0x05,
                                    0xb8, 0x02, 0x00, 0x00, 0x00, 0x90};
static const uint8_t dcode_284[] = {0x0f, 0x9a, 0xc1};
static const uint8_t dcode_285[] = {0x0f, 0x4a, 0xc3};
static const uint8_t dcode_286[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x7a, 0x05,
                                    0xb8, 0x02, 0x00, 0x00, 0x00, 0x90};
static const uint8_t dcode_287[] = {0x0f, 0x9b, 0xc1};
static const uint8_t dcode_288[] = {0x0f, 0x4b, 0xc3};
static const uint8_t dcode_289[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x7b, 0x05,
                                    0xb8, 0x02, 0x00, 0x00, 0x00, 0x90};
static const uint8_t dcode_290[] = {0x0f, 0x9c, 0xc1};
static const uint8_t dcode_291[] = {0x0f, 0x4c, 0xc3};
static const uint8_t dcode_292[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x7c, 0x05,
                                    0xb8, 0x02, 0x00, 0x00, 0x00, 0x90};
static const uint8_t dcode_293[] = {0x0f, 0x9d, 0xc1};
static const uint8_t dcode_294[] = {0x0f, 0x4d, 0xc3};
static const uint8_t dcode_295[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x7d, 0x05,
                                    0xb8, 0x02, 0x00, 0x00, 0x00, 0x90};
static const uint8_t dcode_296[] = {0x0f, 0x9e, 0xc1};
static const uint8_t dcode_297[] = {0x0f, 0x4e, 0xc3};
static const uint8_t dcode_298[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x7e, 0x05,
                                    0xb8, 0x02, 0x00, 0x00, 0x00, 0x90};
static const uint8_t dcode_299[] = {0x0f, 0x9f, 0xc1};
static const uint8_t dcode_300[] = {0x0f, 0x4f, 0xc3};
static const uint8_t dcode_301[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0x7f, 0x05,
                                    0xb8, 0x02, 0x00, 0x00, 0x00, 0x90};
static const uint8_t dcode_302[] = {0x66, 0x98};
static const uint8_t dcode_303[] = {0x98};
static const uint8_t dcode_304[] = {0x48, 0x98};
static const uint8_t dcode_305[] = {0x66, 0x99};
static const uint8_t dcode_306[] = {0x99};
static const uint8_t dcode_307[] = {0x48, 0x99};
static const uint8_t dcode_308[] = {0x9f};
static const uint8_t dcode_309[] = {0x9e};
static const uint8_t dcode_310[] = {0xf5};
static const uint8_t dcode_311[] = {0xf8};
static const uint8_t dcode_312[] = {0xf9};
static const uint8_t dcode_313[] = {0x0f, 0xc8};
static const uint8_t dcode_314[] = {0x48, 0x0f, 0xca};
static const uint8_t dcode_315[] = {0x0f, 0xb6, 0xc3};
static const uint8_t dcode_316[] = {0x48, 0x0f, 0xb7, 0xc3};
static const uint8_t dcode_317[] = {0x0f, 0xbe, 0xc3};
static const uint8_t dcode_318[] = {0x48, 0x0f, 0xbf, 0xc3};
static const uint8_t dcode_319[] = {0x48, 0x63, 0xc3};
static const uint8_t dcode_320[] = {0x66, 0x0f, 0xbe, 0xca};
static const uint8_t dcode_321[] = {0x48, 0x8d, 0x44, 0x8b, 0x08};
static const uint8_t dcode_322[] = {0x8d, 0x04, 0x13};
static const uint8_t dcode_323[] = {0x66, 0x8d, 0x43, 0xff};
static const uint8_t dcode_324[] = {0x88, 0xec};
static const uint8_t dcode_325[] = {0x88, 0xde};
static const uint8_t dcode_326[] = {0x50, 0x59};
static const uint8_t dcode_327[] = {0x50, 0x9d, 0x9c, 0x5a};
static const uint8_t dcode_328[] = {0x9c, 0x58};
static const uint8_t dcode_329[] = {0x87, 0xc0};
static const uint8_t dcode_330[] = {0x0f, 0x1f, 0x00};
static const uint8_t dcode_331[] = {0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b,
                                    0x40, 0x48, 0x89, 0xde, 0xf3, 0xaa};
static const uint8_t dcode_332[] = {0xfd, 0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b, 0x78,
                                    0x48, 0x8d, 0x73, 0x64, 0xf3, 0xaa, 0xfc};
static const uint8_t dcode_333[] = {0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b, 0x40,
                                    0x48, 0x89, 0xde, 0xf3, 0x48, 0xab};
static const uint8_t dcode_334[] = {0xfd, 0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b, 0x78,
                                    0x48, 0x8d, 0x73, 0x64, 0xf3, 0x48, 0xab, 0xfc};
static const uint8_t dcode_335[] = {0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b,
                                    0x40, 0x48, 0x89, 0xde, 0xf3, 0xa4};
static const uint8_t dcode_336[] = {0xfd, 0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b, 0x78,
                                    0x48, 0x8d, 0x73, 0x64, 0xf3, 0xa4, 0xfc};
static const uint8_t dcode_337[] = {0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b,
                                    0x40, 0x48, 0x89, 0xde, 0xf3, 0xa5};
static const uint8_t dcode_338[] = {0xfd, 0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b, 0x78,
                                    0x48, 0x8d, 0x73, 0x64, 0xf3, 0xa5, 0xfc};
static const uint8_t dcode_339[] = {0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b,
                                    0x40, 0x48, 0x89, 0xde, 0xf3, 0xa6};
static const uint8_t dcode_340[] = {0xfd, 0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b, 0x78,
                                    0x48, 0x8d, 0x73, 0x64, 0xf3, 0xa6, 0xfc};
static const uint8_t dcode_341[] = {0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b,
                                    0x40, 0x48, 0x89, 0xde, 0xf2, 0xae};
static const uint8_t dcode_342[] = {0xfd, 0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b, 0x78,
                                    0x48, 0x8d, 0x73, 0x64, 0xf2, 0xae, 0xfc};
static const uint8_t dcode_343[] = {0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b, 0x40,
                                    0x48, 0x89, 0xde, 0x66, 0xf3, 0xaf};
static const uint8_t dcode_344[] = {0xfd, 0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b, 0x78,
                                    0x48, 0x8d, 0x73, 0x64, 0x66, 0xf3, 0xaf, 0xfc};
static const uint8_t dcode_345[] = {0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b,
                                    0x40, 0x48, 0x89, 0xde, 0x48, 0xad};
static const uint8_t dcode_346[] = {0xfd, 0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b, 0x78,
                                    0x48, 0x8d, 0x73, 0x64, 0x48, 0xad, 0xfc};
static const uint8_t dcode_347[] = {0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b,
                                    0x40, 0x48, 0x89, 0xde, 0x66, 0xab};
static const uint8_t dcode_348[] = {0xfd, 0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b, 0x78,
                                    0x48, 0x8d, 0x73, 0x64, 0x66, 0xab, 0xfc};
static const uint8_t dcode_349[] = {0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b,
                                    0x40, 0x48, 0x89, 0xde, 0xa4};
static const uint8_t dcode_350[] = {0xfd, 0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b,
                                    0x78, 0x48, 0x8d, 0x73, 0x64, 0xa4, 0xfc};
static const uint8_t dcode_351[] = {0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b,
                                    0x40, 0x48, 0x89, 0xde, 0x48, 0xa7};
static const uint8_t dcode_352[] = {0xfd, 0x83, 0xe1, 0x0f, 0x48, 0x8d, 0x7b, 0x78,
                                    0x48, 0x8d, 0x73, 0x64, 0x48, 0xa7, 0xfc};
static const uint8_t dcode_353[] = {0xcc};
static const uint8_t dcode_354[] = {0x0f, 0x0b};
static const uint8_t dcode_355[] = {0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x90, 0x00};
static const uint8_t dcode_356[] = {0x48, 0x89, 0x03, 0x0f, 0x20, 0xc0};
static const uint8_t dcode_357[] = {0xf4};
static const uint8_t dcode_358[] = {0xfa};
static const uint8_t dcode_359[] = {0x0f, 0x31, 0x31, 0xc0, 0x31, 0xd2};
static const struct dcase dcases[] = {
    {"add al, bl", dcode_0, sizeof dcode_0, K_FULL, 1, false},
    {"add ax, bx", dcode_1, sizeof dcode_1, K_FULL, 2, false},
    {"add eax, ebx", dcode_2, sizeof dcode_2, K_FULL, 4, false},
    {"add rax, rbx", dcode_3, sizeof dcode_3, K_FULL, 8, false},
    {"add ah, bl", dcode_4, sizeof dcode_4, K_FULL, 1, false},
    {"add eax, 0x12345678", dcode_5, sizeof dcode_5, K_FULL, 4, false},
    {"add rdx, -3", dcode_6, sizeof dcode_6, K_FULL, 8, false},
    {"add dword ptr [rbx], eax", dcode_7, sizeof dcode_7, K_FULL, 4, true},
    {"add al, byte ptr [rbx+1]", dcode_8, sizeof dcode_8, K_FULL, 1, true},
    {"or al, bl", dcode_9, sizeof dcode_9, K_LOGIC, 1, false},
    {"or ax, bx", dcode_10, sizeof dcode_10, K_LOGIC, 2, false},
    {"or eax, ebx", dcode_11, sizeof dcode_11, K_LOGIC, 4, false},
    {"or rax, rbx", dcode_12, sizeof dcode_12, K_LOGIC, 8, false},
    {"or ah, bl", dcode_13, sizeof dcode_13, K_LOGIC, 1, false},
    {"or eax, 0x12345678", dcode_14, sizeof dcode_14, K_LOGIC, 4, false},
    {"or rdx, -3", dcode_15, sizeof dcode_15, K_LOGIC, 8, false},
    {"or dword ptr [rbx], eax", dcode_16, sizeof dcode_16, K_LOGIC, 4, true},
    {"or al, byte ptr [rbx+1]", dcode_17, sizeof dcode_17, K_LOGIC, 1, true},
    {"adc al, bl", dcode_18, sizeof dcode_18, K_FULL, 1, false},
    {"adc ax, bx", dcode_19, sizeof dcode_19, K_FULL, 2, false},
    {"adc eax, ebx", dcode_20, sizeof dcode_20, K_FULL, 4, false},
    {"adc rax, rbx", dcode_21, sizeof dcode_21, K_FULL, 8, false},
    {"adc ah, bl", dcode_22, sizeof dcode_22, K_FULL, 1, false},
    {"adc eax, 0x12345678", dcode_23, sizeof dcode_23, K_FULL, 4, false},
    {"adc rdx, -3", dcode_24, sizeof dcode_24, K_FULL, 8, false},
    {"adc dword ptr [rbx], eax", dcode_25, sizeof dcode_25, K_FULL, 4, true},
    {"adc al, byte ptr [rbx+1]", dcode_26, sizeof dcode_26, K_FULL, 1, true},
    {"sbb al, bl", dcode_27, sizeof dcode_27, K_FULL, 1, false},
    {"sbb ax, bx", dcode_28, sizeof dcode_28, K_FULL, 2, false},
    {"sbb eax, ebx", dcode_29, sizeof dcode_29, K_FULL, 4, false},
    {"sbb rax, rbx", dcode_30, sizeof dcode_30, K_FULL, 8, false},
    {"sbb ah, bl", dcode_31, sizeof dcode_31, K_FULL, 1, false},
    {"sbb eax, 0x12345678", dcode_32, sizeof dcode_32, K_FULL, 4, false},
    {"sbb rdx, -3", dcode_33, sizeof dcode_33, K_FULL, 8, false},
    {"sbb dword ptr [rbx], eax", dcode_34, sizeof dcode_34, K_FULL, 4, true},
    {"sbb al, byte ptr [rbx+1]", dcode_35, sizeof dcode_35, K_FULL, 1, true},
    {"and al, bl", dcode_36, sizeof dcode_36, K_LOGIC, 1, false},
    {"and ax, bx", dcode_37, sizeof dcode_37, K_LOGIC, 2, false},
    {"and eax, ebx", dcode_38, sizeof dcode_38, K_LOGIC, 4, false},
    {"and rax, rbx", dcode_39, sizeof dcode_39, K_LOGIC, 8, false},
    {"and ah, bl", dcode_40, sizeof dcode_40, K_LOGIC, 1, false},
    {"and eax, 0x12345678", dcode_41, sizeof dcode_41, K_LOGIC, 4, false},
    {"and rdx, -3", dcode_42, sizeof dcode_42, K_LOGIC, 8, false},
    {"and dword ptr [rbx], eax", dcode_43, sizeof dcode_43, K_LOGIC, 4, true},
    {"and al, byte ptr [rbx+1]", dcode_44, sizeof dcode_44, K_LOGIC, 1, true},
    {"sub al, bl", dcode_45, sizeof dcode_45, K_FULL, 1, false},
    {"sub ax, bx", dcode_46, sizeof dcode_46, K_FULL, 2, false},
    {"sub eax, ebx", dcode_47, sizeof dcode_47, K_FULL, 4, false},
    {"sub rax, rbx", dcode_48, sizeof dcode_48, K_FULL, 8, false},
    {"sub ah, bl", dcode_49, sizeof dcode_49, K_FULL, 1, false},
    {"sub eax, 0x12345678", dcode_50, sizeof dcode_50, K_FULL, 4, false},
    {"sub rdx, -3", dcode_51, sizeof dcode_51, K_FULL, 8, false},
    {"sub dword ptr [rbx], eax", dcode_52, sizeof dcode_52, K_FULL, 4, true},
    {"sub al, byte ptr [rbx+1]", dcode_53, sizeof dcode_53, K_FULL, 1, true},
    {"xor al, bl", dcode_54, sizeof dcode_54, K_LOGIC, 1, false},
    {"xor ax, bx", dcode_55, sizeof dcode_55, K_LOGIC, 2, false},
    {"xor eax, ebx", dcode_56, sizeof dcode_56, K_LOGIC, 4, false},
    {"xor rax, rbx", dcode_57, sizeof dcode_57, K_LOGIC, 8, false},
    {"xor ah, bl", dcode_58, sizeof dcode_58, K_LOGIC, 1, false},
    {"xor eax, 0x12345678", dcode_59, sizeof dcode_59, K_LOGIC, 4, false},
    {"xor rdx, -3", dcode_60, sizeof dcode_60, K_LOGIC, 8, false},
    {"xor dword ptr [rbx], eax", dcode_61, sizeof dcode_61, K_LOGIC, 4, true},
    {"xor al, byte ptr [rbx+1]", dcode_62, sizeof dcode_62, K_LOGIC, 1, true},
    {"cmp al, bl", dcode_63, sizeof dcode_63, K_FULL, 1, false},
    {"cmp ax, bx", dcode_64, sizeof dcode_64, K_FULL, 2, false},
    {"cmp eax, ebx", dcode_65, sizeof dcode_65, K_FULL, 4, false},
    {"cmp rax, rbx", dcode_66, sizeof dcode_66, K_FULL, 8, false},
    {"cmp ah, bl", dcode_67, sizeof dcode_67, K_FULL, 1, false},
    {"cmp eax, 0x12345678", dcode_68, sizeof dcode_68, K_FULL, 4, false},
    {"cmp rdx, -3", dcode_69, sizeof dcode_69, K_FULL, 8, false},
    {"cmp dword ptr [rbx], eax", dcode_70, sizeof dcode_70, K_FULL, 4, true},
    {"cmp al, byte ptr [rbx+1]", dcode_71, sizeof dcode_71, K_FULL, 1, true},
    {"test al, bl", dcode_72, sizeof dcode_72, K_LOGIC, 1, false},
    {"test ax, bx", dcode_73, sizeof dcode_73, K_LOGIC, 2, false},
    {"test eax, ebx", dcode_74, sizeof dcode_74, K_LOGIC, 4, false},
    {"test rax, rbx", dcode_75, sizeof dcode_75, K_LOGIC, 8, false},
    {"test ah, bl", dcode_76, sizeof dcode_76, K_LOGIC, 1, false},
    {"test eax, 0x80000001", dcode_77, sizeof dcode_77, K_LOGIC, 4, false},
    {"test rdx, -3", dcode_78, sizeof dcode_78, K_LOGIC, 8, false},
    {"test dword ptr [rbx], eax", dcode_79, sizeof dcode_79, K_LOGIC, 4, true},
    {"inc al", dcode_80, sizeof dcode_80, K_FULL, 1, false},
    {"inc ax", dcode_81, sizeof dcode_81, K_FULL, 2, false},
    {"inc eax", dcode_82, sizeof dcode_82, K_FULL, 4, false},
    {"inc rax", dcode_83, sizeof dcode_83, K_FULL, 8, false},
    {"inc qword ptr [rbx]", dcode_84, sizeof dcode_84, K_FULL, 8, true},
    {"dec al", dcode_85, sizeof dcode_85, K_FULL, 1, false},
    {"dec ax", dcode_86, sizeof dcode_86, K_FULL, 2, false},
    {"dec eax", dcode_87, sizeof dcode_87, K_FULL, 4, false},
    {"dec rax", dcode_88, sizeof dcode_88, K_FULL, 8, false},
    {"dec qword ptr [rbx]", dcode_89, sizeof dcode_89, K_FULL, 8, true},
    {"neg al", dcode_90, sizeof dcode_90, K_FULL, 1, false},
    {"neg ax", dcode_91, sizeof dcode_91, K_FULL, 2, false},
    {"neg eax", dcode_92, sizeof dcode_92, K_FULL, 4, false},
    {"neg rax", dcode_93, sizeof dcode_93, K_FULL, 8, false},
    {"neg qword ptr [rbx]", dcode_94, sizeof dcode_94, K_FULL, 8, true},
    {"not al", dcode_95, sizeof dcode_95, K_FULL, 1, false},
    {"not ax", dcode_96, sizeof dcode_96, K_FULL, 2, false},
    {"not eax", dcode_97, sizeof dcode_97, K_FULL, 4, false},
    {"not rax", dcode_98, sizeof dcode_98, K_FULL, 8, false},
    {"rol al, cl", dcode_99, sizeof dcode_99, K_ROT, 1, false},
    {"rol al, 1", dcode_100, sizeof dcode_100, K_ROT1, 1, false},
    {"rol ax, cl", dcode_101, sizeof dcode_101, K_ROT, 2, false},
    {"rol ax, 1", dcode_102, sizeof dcode_102, K_ROT1, 2, false},
    {"rol eax, cl", dcode_103, sizeof dcode_103, K_ROT, 4, false},
    {"rol eax, 1", dcode_104, sizeof dcode_104, K_ROT1, 4, false},
    {"rol rax, cl", dcode_105, sizeof dcode_105, K_ROT, 8, false},
    {"rol rax, 1", dcode_106, sizeof dcode_106, K_ROT1, 8, false},
    {"rol eax, 13", dcode_107, sizeof dcode_107, K_ROT13, 4, false},
    {"ror al, cl", dcode_108, sizeof dcode_108, K_ROT, 1, false},
    {"ror al, 1", dcode_109, sizeof dcode_109, K_ROT1, 1, false},
    {"ror ax, cl", dcode_110, sizeof dcode_110, K_ROT, 2, false},
    {"ror ax, 1", dcode_111, sizeof dcode_111, K_ROT1, 2, false},
    {"ror eax, cl", dcode_112, sizeof dcode_112, K_ROT, 4, false},
    {"ror eax, 1", dcode_113, sizeof dcode_113, K_ROT1, 4, false},
    {"ror rax, cl", dcode_114, sizeof dcode_114, K_ROT, 8, false},
    {"ror rax, 1", dcode_115, sizeof dcode_115, K_ROT1, 8, false},
    {"ror eax, 13", dcode_116, sizeof dcode_116, K_ROT13, 4, false},
    {"rcl al, cl", dcode_117, sizeof dcode_117, K_ROT, 1, false},
    {"rcl al, 1", dcode_118, sizeof dcode_118, K_ROT1, 1, false},
    {"rcl ax, cl", dcode_119, sizeof dcode_119, K_ROT, 2, false},
    {"rcl ax, 1", dcode_120, sizeof dcode_120, K_ROT1, 2, false},
    {"rcl eax, cl", dcode_121, sizeof dcode_121, K_ROT, 4, false},
    {"rcl eax, 1", dcode_122, sizeof dcode_122, K_ROT1, 4, false},
    {"rcl rax, cl", dcode_123, sizeof dcode_123, K_ROT, 8, false},
    {"rcl rax, 1", dcode_124, sizeof dcode_124, K_ROT1, 8, false},
    {"rcl eax, 13", dcode_125, sizeof dcode_125, K_ROT13, 4, false},
    {"rcr al, cl", dcode_126, sizeof dcode_126, K_ROT, 1, false},
    {"rcr al, 1", dcode_127, sizeof dcode_127, K_ROT1, 1, false},
    {"rcr ax, cl", dcode_128, sizeof dcode_128, K_ROT, 2, false},
    {"rcr ax, 1", dcode_129, sizeof dcode_129, K_ROT1, 2, false},
    {"rcr eax, cl", dcode_130, sizeof dcode_130, K_ROT, 4, false},
    {"rcr eax, 1", dcode_131, sizeof dcode_131, K_ROT1, 4, false},
    {"rcr rax, cl", dcode_132, sizeof dcode_132, K_ROT, 8, false},
    {"rcr rax, 1", dcode_133, sizeof dcode_133, K_ROT1, 8, false},
    {"rcr eax, 13", dcode_134, sizeof dcode_134, K_ROT13, 4, false},
    {"shl al, cl", dcode_135, sizeof dcode_135, K_SHIFT, 1, false},
    {"shl al, 1", dcode_136, sizeof dcode_136, K_SHIFT1, 1, false},
    {"shl ax, cl", dcode_137, sizeof dcode_137, K_SHIFT, 2, false},
    {"shl ax, 1", dcode_138, sizeof dcode_138, K_SHIFT1, 2, false},
    {"shl eax, cl", dcode_139, sizeof dcode_139, K_SHIFT, 4, false},
    {"shl eax, 1", dcode_140, sizeof dcode_140, K_SHIFT1, 4, false},
    {"shl rax, cl", dcode_141, sizeof dcode_141, K_SHIFT, 8, false},
    {"shl rax, 1", dcode_142, sizeof dcode_142, K_SHIFT1, 8, false},
    {"shl rax, 7", dcode_143, sizeof dcode_143, K_SHIFT7, 8, false},
    {"shl word ptr [rbx], cl", dcode_144, sizeof dcode_144, K_SHIFT, 2, true},
    {"shr al, cl", dcode_145, sizeof dcode_145, K_SHIFT, 1, false},
    {"shr al, 1", dcode_146, sizeof dcode_146, K_SHIFT1, 1, false},
    {"shr ax, cl", dcode_147, sizeof dcode_147, K_SHIFT, 2, false},
    {"shr ax, 1", dcode_148, sizeof dcode_148, K_SHIFT1, 2, false},
    {"shr eax, cl", dcode_149, sizeof dcode_149, K_SHIFT, 4, false},
    {"shr eax, 1", dcode_150, sizeof dcode_150, K_SHIFT1, 4, false},
    {"shr rax, cl", dcode_151, sizeof dcode_151, K_SHIFT, 8, false},
    {"shr rax, 1", dcode_152, sizeof dcode_152, K_SHIFT1, 8, false},
    {"shr rax, 7", dcode_153, sizeof dcode_153, K_SHIFT7, 8, false},
    {"shr word ptr [rbx], cl", dcode_154, sizeof dcode_154, K_SHIFT, 2, true},
    {"sar al, cl", dcode_155, sizeof dcode_155, K_SHIFT, 1, false},
    {"sar al, 1", dcode_156, sizeof dcode_156, K_SHIFT1, 1, false},
    {"sar ax, cl", dcode_157, sizeof dcode_157, K_SHIFT, 2, false},
    {"sar ax, 1", dcode_158, sizeof dcode_158, K_SHIFT1, 2, false},
    {"sar eax, cl", dcode_159, sizeof dcode_159, K_SHIFT, 4, false},
    {"sar eax, 1", dcode_160, sizeof dcode_160, K_SHIFT1, 4, false},
    {"sar rax, cl", dcode_161, sizeof dcode_161, K_SHIFT, 8, false},
    {"sar rax, 1", dcode_162, sizeof dcode_162, K_SHIFT1, 8, false},
    {"sar rax, 7", dcode_163, sizeof dcode_163, K_SHIFT7, 8, false},
    {"sar word ptr [rbx], cl", dcode_164, sizeof dcode_164, K_SHIFT, 2, true},
    {"shld eax, ebx, cl", dcode_165, sizeof dcode_165, K_SHXD, 4, false},
    {"shld eax, ebx, 5", dcode_166, sizeof dcode_166, K_SHXD5, 4, false},
    {"shld rax, rbx, cl", dcode_167, sizeof dcode_167, K_SHXD, 8, false},
    {"shld rax, rbx, 5", dcode_168, sizeof dcode_168, K_SHXD5, 8, false},
    {"shrd eax, ebx, cl", dcode_169, sizeof dcode_169, K_SHXD, 4, false},
    {"shrd eax, ebx, 5", dcode_170, sizeof dcode_170, K_SHXD5, 4, false},
    {"shrd rax, rbx, cl", dcode_171, sizeof dcode_171, K_SHXD, 8, false},
    {"shrd rax, rbx, 5", dcode_172, sizeof dcode_172, K_SHXD5, 8, false},
    {"mul bl", dcode_173, sizeof dcode_173, K_MUL, 1, false},
    {"imul bl", dcode_174, sizeof dcode_174, K_MUL, 1, false},
    {"div bl", dcode_175, sizeof dcode_175, K_DIV, 1, false},
    {"idiv bl", dcode_176, sizeof dcode_176, K_DIV, 1, false},
    {"div bl", dcode_177, sizeof dcode_177, K_DIV, 1, false},
    {"mul bx", dcode_178, sizeof dcode_178, K_MUL, 2, false},
    {"imul bx", dcode_179, sizeof dcode_179, K_MUL, 2, false},
    {"xor edx, edx; div bx", dcode_180, sizeof dcode_180, K_DIV, 2, false},
    {"idiv bx", dcode_181, sizeof dcode_181, K_DIV, 2, false},
    {"div bx", dcode_182, sizeof dcode_182, K_DIV, 2, false},
    {"mul ebx", dcode_183, sizeof dcode_183, K_MUL, 4, false},
    {"imul ebx", dcode_184, sizeof dcode_184, K_MUL, 4, false},
    {"xor edx, edx; div ebx", dcode_185, sizeof dcode_185, K_DIV, 4, false},
    {"idiv ebx", dcode_186, sizeof dcode_186, K_DIV, 4, false},
    {"div ebx", dcode_187, sizeof dcode_187, K_DIV, 4, false},
    {"mul rbx", dcode_188, sizeof dcode_188, K_MUL, 8, false},
    {"imul rbx", dcode_189, sizeof dcode_189, K_MUL, 8, false},
    {"xor edx, edx; div rbx", dcode_190, sizeof dcode_190, K_DIV, 8, false},
    {"idiv rbx", dcode_191, sizeof dcode_191, K_DIV, 8, false},
    {"div rbx", dcode_192, sizeof dcode_192, K_DIV, 8, false},
    {"imul ax, bx", dcode_193, sizeof dcode_193, K_MUL, 2, false},
    {"imul ax, bx, -7", dcode_194, sizeof dcode_194, K_MUL, 2, false},
    {"imul ax, bx, 0x1234", dcode_195, sizeof dcode_195, K_MUL, 2, false},
    {"bsf ax, bx", dcode_196, sizeof dcode_196, K_BSF, 2, false},
    {"bsr ax, bx", dcode_197, sizeof dcode_197, K_BSF, 2, false},
    {"tzcnt ax, bx", dcode_198, sizeof dcode_198, K_CNT, 2, false},
    {"lzcnt ax, bx", dcode_199, sizeof dcode_199, K_CNT, 2, false},
    {"popcnt ax, bx", dcode_200, sizeof dcode_200, K_FULL, 2, false},
    {"bt ax, bx", dcode_201, sizeof dcode_201, K_BT, 2, false},
    {"bt ax, 9", dcode_202, sizeof dcode_202, K_BT, 2, false},
    {"bts ax, bx", dcode_203, sizeof dcode_203, K_BT, 2, false},
    {"bts ax, 9", dcode_204, sizeof dcode_204, K_BT, 2, false},
    {"btr ax, bx", dcode_205, sizeof dcode_205, K_BT, 2, false},
    {"btr ax, 9", dcode_206, sizeof dcode_206, K_BT, 2, false},
    {"btc ax, bx", dcode_207, sizeof dcode_207, K_BT, 2, false},
    {"btc ax, 9", dcode_208, sizeof dcode_208, K_BT, 2, false},
    {"xadd ax, bx", dcode_209, sizeof dcode_209, K_FULL, 2, false},
    {"cmpxchg cx, bx", dcode_210, sizeof dcode_210, K_FULL, 2, false},
    {"xchg ax, bx", dcode_211, sizeof dcode_211, K_FULL, 2, false},
    {"imul eax, ebx", dcode_212, sizeof dcode_212, K_MUL, 4, false},
    {"imul eax, ebx, -7", dcode_213, sizeof dcode_213, K_MUL, 4, false},
    {"imul eax, ebx, 0x1234", dcode_214, sizeof dcode_214, K_MUL, 4, false},
    {"bsf eax, ebx", dcode_215, sizeof dcode_215, K_BSF, 4, false},
    {"bsr eax, ebx", dcode_216, sizeof dcode_216, K_BSF, 4, false},
    {"tzcnt eax, ebx", dcode_217, sizeof dcode_217, K_CNT, 4, false},
    {"lzcnt eax, ebx", dcode_218, sizeof dcode_218, K_CNT, 4, false},
    {"popcnt eax, ebx", dcode_219, sizeof dcode_219, K_FULL, 4, false},
    {"bt eax, ebx", dcode_220, sizeof dcode_220, K_BT, 4, false},
    {"bt eax, 9", dcode_221, sizeof dcode_221, K_BT, 4, false},
    {"bts eax, ebx", dcode_222, sizeof dcode_222, K_BT, 4, false},
    {"bts eax, 9", dcode_223, sizeof dcode_223, K_BT, 4, false},
    {"btr eax, ebx", dcode_224, sizeof dcode_224, K_BT, 4, false},
    {"btr eax, 9", dcode_225, sizeof dcode_225, K_BT, 4, false},
    {"btc eax, ebx", dcode_226, sizeof dcode_226, K_BT, 4, false},
    {"btc eax, 9", dcode_227, sizeof dcode_227, K_BT, 4, false},
    {"xadd eax, ebx", dcode_228, sizeof dcode_228, K_FULL, 4, false},
    {"cmpxchg ecx, ebx", dcode_229, sizeof dcode_229, K_FULL, 4, false},
    {"xchg eax, ebx", dcode_230, sizeof dcode_230, K_FULL, 4, false},
    {"imul rax, rbx", dcode_231, sizeof dcode_231, K_MUL, 8, false},
    {"imul rax, rbx, -7", dcode_232, sizeof dcode_232, K_MUL, 8, false},
    {"imul rax, rbx, 0x1234", dcode_233, sizeof dcode_233, K_MUL, 8, false},
    {"bsf rax, rbx", dcode_234, sizeof dcode_234, K_BSF, 8, false},
    {"bsr rax, rbx", dcode_235, sizeof dcode_235, K_BSF, 8, false},
    {"tzcnt rax, rbx", dcode_236, sizeof dcode_236, K_CNT, 8, false},
    {"lzcnt rax, rbx", dcode_237, sizeof dcode_237, K_CNT, 8, false},
    {"popcnt rax, rbx", dcode_238, sizeof dcode_238, K_FULL, 8, false},
    {"bt rax, rbx", dcode_239, sizeof dcode_239, K_BT, 8, false},
    {"bt rax, 9", dcode_240, sizeof dcode_240, K_BT, 8, false},
    {"bts rax, rbx", dcode_241, sizeof dcode_241, K_BT, 8, false},
    {"bts rax, 9", dcode_242, sizeof dcode_242, K_BT, 8, false},
    {"btr rax, rbx", dcode_243, sizeof dcode_243, K_BT, 8, false},
    {"btr rax, 9", dcode_244, sizeof dcode_244, K_BT, 8, false},
    {"btc rax, rbx", dcode_245, sizeof dcode_245, K_BT, 8, false},
    {"btc rax, 9", dcode_246, sizeof dcode_246, K_BT, 8, false},
    {"xadd rax, rbx", dcode_247, sizeof dcode_247, K_FULL, 8, false},
    {"cmpxchg rcx, rbx", dcode_248, sizeof dcode_248, K_FULL, 8, false},
    {"xchg rax, rbx", dcode_249, sizeof dcode_249, K_FULL, 8, false},
    {"bts dword ptr [rbx], ecx", dcode_250, sizeof dcode_250, K_BT, 4, true},
    {"btc qword ptr [rbx], rcx", dcode_251, sizeof dcode_251, K_BT, 8, true},
    {"cmpxchg qword ptr [rbx], rcx", dcode_252, sizeof dcode_252, K_FULL, 8, true},
    {"xadd dword ptr [rbx], eax", dcode_253, sizeof dcode_253, K_FULL, 4, true},
    {"seto cl", dcode_254, sizeof dcode_254, K_FULL, 1, false},
    {"cmovo eax, ebx", dcode_255, sizeof dcode_255, K_FULL, 4, false},
    {"mov eax, 1; jo 1f; mov eax, 2; 1: nop", dcode_256, sizeof dcode_256, K_FULL, 4, false},
    {"setno cl", dcode_257, sizeof dcode_257, K_FULL, 1, false},
    {"cmovno eax, ebx", dcode_258, sizeof dcode_258, K_FULL, 4, false},
    {"mov eax, 1; jno 1f; mov eax, 2; 1: nop", dcode_259, sizeof dcode_259, K_FULL, 4, false},
    {"setb cl", dcode_260, sizeof dcode_260, K_FULL, 1, false},
    {"cmovb eax, ebx", dcode_261, sizeof dcode_261, K_FULL, 4, false},
    {"mov eax, 1; jb 1f; mov eax, 2; 1: nop", dcode_262, sizeof dcode_262, K_FULL, 4, false},
    {"setae cl", dcode_263, sizeof dcode_263, K_FULL, 1, false},
    {"cmovae eax, ebx", dcode_264, sizeof dcode_264, K_FULL, 4, false},
    {"mov eax, 1; jae 1f; mov eax, 2; 1: nop", dcode_265, sizeof dcode_265, K_FULL, 4, false},
    {"sete cl", dcode_266, sizeof dcode_266, K_FULL, 1, false},
    {"cmove eax, ebx", dcode_267, sizeof dcode_267, K_FULL, 4, false},
    {"mov eax, 1; je 1f; mov eax, 2; 1: nop", dcode_268, sizeof dcode_268, K_FULL, 4, false},
    {"setne cl", dcode_269, sizeof dcode_269, K_FULL, 1, false},
    {"cmovne eax, ebx", dcode_270, sizeof dcode_270, K_FULL, 4, false},
    {"mov eax, 1; jne 1f; mov eax, 2; 1: nop", dcode_271, sizeof dcode_271, K_FULL, 4, false},
    {"setbe cl", dcode_272, sizeof dcode_272, K_FULL, 1, false},
    {"cmovbe eax, ebx", dcode_273, sizeof dcode_273, K_FULL, 4, false},
    {"mov eax, 1; jbe 1f; mov eax, 2; 1: nop", dcode_274, sizeof dcode_274, K_FULL, 4, false},
    {"seta cl", dcode_275, sizeof dcode_275, K_FULL, 1, false},
    {"cmova eax, ebx", dcode_276, sizeof dcode_276, K_FULL, 4, false},
    {"mov eax, 1; ja 1f; mov eax, 2; 1: nop", dcode_277, sizeof dcode_277, K_FULL, 4, false},
    {"sets cl", dcode_278, sizeof dcode_278, K_FULL, 1, false},
    {"cmovs eax, ebx", dcode_279, sizeof dcode_279, K_FULL, 4, false},
    {"mov eax, 1; js 1f; mov eax, 2; 1: nop", dcode_280, sizeof dcode_280, K_FULL, 4, false},
    {"setns cl", dcode_281, sizeof dcode_281, K_FULL, 1, false},
    {"cmovns eax, ebx", dcode_282, sizeof dcode_282, K_FULL, 4, false},
    {"mov eax, 1; jns 1f; mov eax, 2; 1: nop", dcode_283, sizeof dcode_283, K_FULL, 4, false},
    {"setp cl", dcode_284, sizeof dcode_284, K_FULL, 1, false},
    {"cmovp eax, ebx", dcode_285, sizeof dcode_285, K_FULL, 4, false},
    {"mov eax, 1; jp 1f; mov eax, 2; 1: nop", dcode_286, sizeof dcode_286, K_FULL, 4, false},
    {"setnp cl", dcode_287, sizeof dcode_287, K_FULL, 1, false},
    {"cmovnp eax, ebx", dcode_288, sizeof dcode_288, K_FULL, 4, false},
    {"mov eax, 1; jnp 1f; mov eax, 2; 1: nop", dcode_289, sizeof dcode_289, K_FULL, 4, false},
    {"setl cl", dcode_290, sizeof dcode_290, K_FULL, 1, false},
    {"cmovl eax, ebx", dcode_291, sizeof dcode_291, K_FULL, 4, false},
    {"mov eax, 1; jl 1f; mov eax, 2; 1: nop", dcode_292, sizeof dcode_292, K_FULL, 4, false},
    {"setge cl", dcode_293, sizeof dcode_293, K_FULL, 1, false},
    {"cmovge eax, ebx", dcode_294, sizeof dcode_294, K_FULL, 4, false},
    {"mov eax, 1; jge 1f; mov eax, 2; 1: nop", dcode_295, sizeof dcode_295, K_FULL, 4, false},
    {"setle cl", dcode_296, sizeof dcode_296, K_FULL, 1, false},
    {"cmovle eax, ebx", dcode_297, sizeof dcode_297, K_FULL, 4, false},
    {"mov eax, 1; jle 1f; mov eax, 2; 1: nop", dcode_298, sizeof dcode_298, K_FULL, 4, false},
    {"setg cl", dcode_299, sizeof dcode_299, K_FULL, 1, false},
    {"cmovg eax, ebx", dcode_300, sizeof dcode_300, K_FULL, 4, false},
    {"mov eax, 1; jg 1f; mov eax, 2; 1: nop", dcode_301, sizeof dcode_301, K_FULL, 4, false},
    {"cbw", dcode_302, sizeof dcode_302, K_FULL, 8, false},
    {"cwde", dcode_303, sizeof dcode_303, K_FULL, 8, false},
    {"cdqe", dcode_304, sizeof dcode_304, K_FULL, 8, false},
    {"cwd", dcode_305, sizeof dcode_305, K_FULL, 8, false},
    {"cdq", dcode_306, sizeof dcode_306, K_FULL, 8, false},
    {"cqo", dcode_307, sizeof dcode_307, K_FULL, 8, false},
    {"lahf", dcode_308, sizeof dcode_308, K_FULL, 8, false},
    {"sahf", dcode_309, sizeof dcode_309, K_FULL, 8, false},
    {"cmc", dcode_310, sizeof dcode_310, K_FULL, 8, false},
    {"clc", dcode_311, sizeof dcode_311, K_FULL, 8, false},
    {"stc", dcode_312, sizeof dcode_312, K_FULL, 8, false},
    {"bswap eax", dcode_313, sizeof dcode_313, K_FULL, 8, false},
    {"bswap rdx", dcode_314, sizeof dcode_314, K_FULL, 8, false},
    {"movzx eax, bl", dcode_315, sizeof dcode_315, K_FULL, 8, false},
    {"movzx rax, bx", dcode_316, sizeof dcode_316, K_FULL, 8, false},
    {"movsx eax, bl", dcode_317, sizeof dcode_317, K_FULL, 8, false},
    {"movsx rax, bx", dcode_318, sizeof dcode_318, K_FULL, 8, false},
    {"movsxd rax, ebx", dcode_319, sizeof dcode_319, K_FULL, 8, false},
    {"movsx cx, dl", dcode_320, sizeof dcode_320, K_FULL, 8, false},
    {"lea rax, [rbx+rcx*4+8]", dcode_321, sizeof dcode_321, K_FULL, 8, false},
    {"lea eax, [rbx+rdx]", dcode_322, sizeof dcode_322, K_FULL, 8, false},
    {"lea ax, [rbx-1]", dcode_323, sizeof dcode_323, K_FULL, 8, false},
    {"mov ah, ch", dcode_324, sizeof dcode_324, K_FULL, 8, false},
    {"mov dh, bl", dcode_325, sizeof dcode_325, K_FULL, 8, false},
    {"push rax; pop rcx", dcode_326, sizeof dcode_326, K_FULL, 8, false},
    {"push rax; popf; pushf; pop rdx", dcode_327, sizeof dcode_327, K_FULL, 8, false},
    {"pushf; pop rax", dcode_328, sizeof dcode_328, K_FULL, 8, false},
    {"xchg eax, eax", dcode_329, sizeof dcode_329, K_FULL, 8, false},
    {"nop dword ptr [rax]", dcode_330, sizeof dcode_330, K_FULL, 8, false},
    {"string rep stosb", dcode_331, sizeof dcode_331, K_FULL, 8, true},
    {"string df rep stosb", dcode_332, sizeof dcode_332, K_FULL, 8, true},
    {"string rep stosq", dcode_333, sizeof dcode_333, K_FULL, 8, true},
    {"string df rep stosq", dcode_334, sizeof dcode_334, K_FULL, 8, true},
    {"string rep movsb", dcode_335, sizeof dcode_335, K_FULL, 8, true},
    {"string df rep movsb", dcode_336, sizeof dcode_336, K_FULL, 8, true},
    {"string rep movsd", dcode_337, sizeof dcode_337, K_FULL, 8, true},
    {"string df rep movsd", dcode_338, sizeof dcode_338, K_FULL, 8, true},
    {"string repe cmpsb", dcode_339, sizeof dcode_339, K_FULL, 8, true},
    {"string df repe cmpsb", dcode_340, sizeof dcode_340, K_FULL, 8, true},
    {"string repne scasb", dcode_341, sizeof dcode_341, K_FULL, 8, true},
    {"string df repne scasb", dcode_342, sizeof dcode_342, K_FULL, 8, true},
    {"string repe scasw", dcode_343, sizeof dcode_343, K_FULL, 8, true},
    {"string df repe scasw", dcode_344, sizeof dcode_344, K_FULL, 8, true},
    {"string lodsq", dcode_345, sizeof dcode_345, K_FULL, 8, true},
    {"string df lodsq", dcode_346, sizeof dcode_346, K_FULL, 8, true},
    {"string stosw", dcode_347, sizeof dcode_347, K_FULL, 8, true},
    {"string df stosw", dcode_348, sizeof dcode_348, K_FULL, 8, true},
    {"string movsb", dcode_349, sizeof dcode_349, K_FULL, 8, true},
    {"string df movsb", dcode_350, sizeof dcode_350, K_FULL, 8, true},
    {"string cmpsq", dcode_351, sizeof dcode_351, K_FULL, 8, true},
    {"string df cmpsq", dcode_352, sizeof dcode_352, K_FULL, 8, true},
    {"int3", dcode_353, sizeof dcode_353, K_FULL, 8, false},
    {"ud2", dcode_354, sizeof dcode_354, K_FULL, 8, false},
    {"mov rax, qword ptr [0x900000]", dcode_355, sizeof dcode_355, K_FULL, 8, false},
    {"mov qword ptr [rbx], rax; mov rax, cr0", dcode_356, sizeof dcode_356, K_FULL, 8, true},
    {"hlt", dcode_357, sizeof dcode_357, K_FULL, 8, false},
    {"cli", dcode_358, sizeof dcode_358, K_FULL, 8, false},
    {"rdtsc; xor eax, eax; xor edx, edx", dcode_359, sizeof dcode_359, K_FULL, 8, false},
};

#define NDCASES ((int)(sizeof dcases / sizeof dcases[0]))
#define STATES  12
#define TRAMP   0x6000ull

#define F_CF    0x1ull
#define F_PF    0x4ull
#define F_AF    0x10ull
#define F_ZF    0x40ull
#define F_SF    0x80ull
#define F_OF    0x800ull
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

/* RFLAGS bits the SDM defines for this case and state. */
static uint64_t defined_flags(const struct dcase *d, uint64_t rcx) {
  unsigned bits = (unsigned)d->width * 8;
  unsigned cnt = (unsigned)(rcx & (d->width == 8 ? 63 : 31));
  uint64_t all = ~0ull;
  switch (d->kind) {
  case K_LOGIC:
    return all & ~F_AF;
  case K_ROT1:
    cnt = 1; /* fall through */
  case K_ROT:
    if (d->kind == K_ROT13) cnt = 13;
    if (!cnt) return all;
    return cnt == 1 ? all : all & ~F_OF;
  case K_ROT13:
    return all & ~F_OF;
  case K_SHIFT1:
    return all & ~F_AF;
  case K_SHIFT7:
    return all & ~(F_AF | F_OF);
  case K_SHIFT:
    if (!cnt) return all;
    if (cnt > bits) return all & ~(F_AF | F_OF | F_CF);
    return cnt == 1 ? all & ~F_AF : all & ~(F_AF | F_OF);
  case K_SHXD5:
    return all & ~(F_AF | F_OF);
  case K_SHXD:
    if (!cnt) return all;
    return cnt == 1 ? all & ~F_AF : all & ~(F_AF | F_OF);
  case K_MUL:
    return all & ~(F_SF | F_ZF | F_AF | F_PF);
  case K_DIV:
    return all & ~F_ARITH;
  case K_BSF:
    return all & ~(F_CF | F_OF | F_SF | F_AF | F_PF);
  case K_CNT:
    return all & ~(F_OF | F_SF | F_AF | F_PF);
  case K_BT:
    return all & ~(F_OF | F_SF | F_AF | F_PF);
  default:
    return all;
  }
}

static uint64_t rng_state;
static uint64_t rnd(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static const uint64_t edges[] = {0,
                                 1,
                                 2,
                                 0x7f,
                                 0x80,
                                 0xff,
                                 0x7fff,
                                 0x8000,
                                 0xffff,
                                 0x7fffffff,
                                 0x80000000ull,
                                 0xffffffffull,
                                 0x7fffffffffffffffull,
                                 0x8000000000000000ull,
                                 ~0ull,
                                 0x100000000ull};
static const uint64_t counts[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255};

static uint64_t pick(void) {
  uint64_t r = rnd();
  if (r & 1) return edges[(r >> 8) % (sizeof edges / sizeof edges[0])];
  return rnd();
}

static void make_state(const struct dcase *d, int idx, int k, struct tm_state *st) {
  rng_state = (uint64_t)idx * 1000003u + (uint64_t)k * 7919u + 1;
  memset(st, 0, sizeof *st);
  for (int i = 0; i < 16; i++)
    st->gpr[i] = pick();
  st->gpr[1] =
      (k < 8) ? counts[(k * 5 + idx) % 16] | (rnd() & ~0xffull & -(uint64_t)(k & 1)) : pick();
  st->gpr[4] = TM_STACK;
  if (d->mem) st->gpr[3] = TM_DATA + 64;
  st->rflags = (rnd() & F_ARITH) | 0x202; /* ring 3 runs with IF=1 (PVM shows it anyway) */
  st->cpl = 3;
}

static void fill_data(uint8_t *ram, int idx) {
  rng_state = (uint64_t)idx * 31 + 5;
  for (unsigned i = 0; i < 4096; i += 8) {
    uint64_t v = rnd();
    memcpy(ram + TM_DATA + i, &v, 8);
  }
}

/* ---- KVM side ------------------------------------------------------------------------ */
struct kvm_m {
  int kvm, vm, vcpu;
  struct kvm_run *run;
  size_t run_size;
  uint8_t *ram;
};

static int kvm_open_m(struct kvm_m *k) {
  memset(k, 0, sizeof *k);
  k->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (k->kvm < 0) return -errno;
  k->vm = ioctl(k->kvm, KVM_CREATE_VM, 0);
  if (k->vm < 0) return -errno;
  k->ram = mmap(NULL, TM_RAM, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (k->ram == MAP_FAILED) return -errno;
  struct kvm_userspace_memory_region r = {.slot = 0,
                                          .guest_phys_addr = 0,
                                          .memory_size = TM_RAM,
                                          .userspace_addr = (uint64_t)(uintptr_t)k->ram};
  if (ioctl(k->vm, KVM_SET_USER_MEMORY_REGION, &r) < 0) return -errno;
  k->vcpu = ioctl(k->vm, KVM_CREATE_VCPU, 0);
  if (k->vcpu < 0) return -errno;
  int sz = ioctl(k->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  k->run_size = (size_t)sz;
  k->run = mmap(NULL, k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu, 0);
  if (k->run == MAP_FAILED) return -errno;
  struct kvm_cpuid2 *c = calloc(1, sizeof *c + 128 * sizeof(struct kvm_cpuid_entry2));
  c->nent = 128;
  if (ioctl(k->kvm, KVM_GET_SUPPORTED_CPUID, c) == 0) ioctl(k->vcpu, KVM_SET_CPUID2, c);
  free(c);
  return 0;
}

static void kvm_close_m(struct kvm_m *k) {
  if (k->run && k->run != MAP_FAILED) munmap(k->run, k->run_size);
  if (k->ram && k->ram != MAP_FAILED) munmap(k->ram, TM_RAM);
  if (k->vcpu > 0) close(k->vcpu);
  if (k->vm > 0) close(k->vm);
  if (k->kvm > 0) close(k->kvm);
}

static void put_tramp(uint8_t *ram, const struct tm_state *st) {
  uint8_t *p = ram + TRAMP;
  uint32_t rsp = (uint32_t)st->gpr[4], fl = (uint32_t)st->rflags, rip = (uint32_t)TM_CODE;
  *p++ = 0x6a, *p++ = 0x1b;                /* push 0x1b */
  *p++ = 0x68, memcpy(p, &rsp, 4), p += 4; /* push rsp */
  *p++ = 0x68, memcpy(p, &fl, 4), p += 4;  /* push rflags */
  *p++ = 0x6a, *p++ = 0x23;                /* push 0x23 */
  *p++ = 0x68, memcpy(p, &rip, 4), p += 4; /* push rip */
  *p++ = 0x48, *p++ = 0xcf;                /* iretq */
}

static int kvm_run_state(struct kvm_m *k, const struct tm_state *st, struct tm_result *r) {
  struct kvm_sregs s;
  if (ioctl(k->vcpu, KVM_GET_SREGS, &s) < 0) return -errno;
  struct kvm_segment code = {.base = 0,
                             .limit = 0xffffffff,
                             .selector = 0x08,
                             .type = 11,
                             .present = 1,
                             .dpl = 0,
                             .db = 0,
                             .s = 1,
                             .l = 1,
                             .g = 1};
  struct kvm_segment data = {.base = 0,
                             .limit = 0xffffffff,
                             .selector = 0x10,
                             .type = 3,
                             .present = 1,
                             .dpl = 0,
                             .db = 1,
                             .s = 1,
                             .l = 0,
                             .g = 1};
  struct kvm_segment tr = {
      .base = TM_TSS, .limit = 0x67, .selector = 0x28, .type = 11, .present = 1, .dpl = 0, .s = 0};
  s.cs = code;
  s.ds = s.es = s.fs = s.gs = s.ss = data;
  s.tr = tr;
  s.gdt.base = TM_GDT, s.gdt.limit = 0x37;
  s.idt.base = TM_IDT, s.idt.limit = 0xfff;
  s.cr0 = 0x80050033, s.cr3 = TM_PML4, s.cr4 = 0x620, s.efer = 0xd01;
  if (ioctl(k->vcpu, KVM_SET_SREGS, &s) < 0) return -errno;
  struct kvm_regs g;
  memset(&g, 0, sizeof g);
  __u64 *gp[16] = {&g.rax, &g.rcx, &g.rdx, &g.rbx, &g.rsp, &g.rbp, &g.rsi, &g.rdi,
                   &g.r8,  &g.r9,  &g.r10, &g.r11, &g.r12, &g.r13, &g.r14, &g.r15};
  for (int i = 0; i < 16; i++)
    *gp[i] = st->gpr[i];
  g.rsp = TM_KSTACK;
  g.rip = TRAMP;
  g.rflags = 2;
  put_tramp(k->ram, st);
  if (ioctl(k->vcpu, KVM_SET_REGS, &g) < 0) return -errno;
  for (int i = 0; i < 8; i++) {
    if (ioctl(k->vcpu, KVM_RUN, 0) < 0) return -errno;
    if (k->run->exit_reason == KVM_EXIT_HLT) break;
    if (k->run->exit_reason != KVM_EXIT_INTR) return -EPROTO;
  }
  if (k->run->exit_reason != KVM_EXIT_HLT) return -EPROTO;
  if (ioctl(k->vcpu, KVM_GET_REGS, &g) < 0) return -errno;
  if (ioctl(k->vcpu, KVM_GET_SREGS, &s) < 0) return -errno;
  memset(r, 0, sizeof *r);
  for (int i = 0; i < 16; i++)
    r->gpr[i] = *gp[i];
  r->cr2 = s.cr2;
  r->vector = -1;
  if (g.rip > TM_STUBS && g.rip <= TM_STUBS + 16 * 256 && ((g.rip - 1 - TM_STUBS) % 16) == 0)
    tm_parse_frame(k->ram, g.rsp, (int)((g.rip - 1 - TM_STUBS) / 16), r);
  return 0;
}

static bool have_kvm(void) {
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  close(fd);
  return true;
}

static const char *const gpr_names[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                          "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

START_TEST(test_diff) {
  if (!have_kvm()) {
    if (_i == 0) printf("test_model_vs_kvm: skipped: /dev/kvm cannot be opened\n");
    return;
  }
  const struct dcase *d = &dcases[_i];
  struct kvm_m k;
  int rc = kvm_open_m(&k);
  ck_assert_msg(rc == 0, "KVM setup failed: %s", strerror(-rc));
  tm_build_image(k.ram, d->code, d->len);
  struct tm_state st0 = {.cpl = 3};
  struct tm *t = tm_new(d->code, d->len, &st0);
  for (int s = 0; s < STATES; s++) {
    struct tm_state st;
    make_state(d, _i, s, &st);
    fill_data(k.ram, _i);
    fill_data(t->ram, _i);
    struct tm_result hw, mo;
    rc = kvm_run_state(&k, &st, &hw);
    ck_assert_msg(rc == 0, "%s: KVM run failed: %s (exit %u)", d->name, strerror(-rc),
                  k.run->exit_reason);
    tm_set_state(t, &st);
    /* the model starts in ring 3 directly, with the flags IRETQ would load */
    t->c->rflags = st.rflags | 2;
    tm_run(t, &mo);
    uint64_t mask = defined_flags(d, st.gpr[1]) & 0x3fffffull & ~0x10000ull; /* RF aside */
    char where[160];
    snprintf(where, sizeof where, "%s [state %d, rcx 0x%llx, rflags 0x%llx]", d->name, s,
             (unsigned long long)st.gpr[1], (unsigned long long)st.rflags);
    ck_assert_msg(mo.vector == hw.vector, "%s: vector model %d, hw %d", where, mo.vector,
                  hw.vector);
    ck_assert_msg(mo.rip == hw.rip, "%s: rip model 0x%llx, hw 0x%llx", where,
                  (unsigned long long)mo.rip, (unsigned long long)hw.rip);
    if (tm_vector_has_error(hw.vector))
      ck_assert_msg(mo.err == hw.err, "%s: error code model 0x%llx, hw 0x%llx", where,
                    (unsigned long long)mo.err, (unsigned long long)hw.err);
    if (hw.vector == 14)
      ck_assert_msg(mo.cr2 == hw.cr2, "%s: cr2 model 0x%llx, hw 0x%llx", where,
                    (unsigned long long)mo.cr2, (unsigned long long)hw.cr2);
    for (int i = 0; i < 16; i++)
      ck_assert_msg(mo.gpr[i] == hw.gpr[i], "%s: %s model 0x%llx, hw 0x%llx", where, gpr_names[i],
                    (unsigned long long)mo.gpr[i], (unsigned long long)hw.gpr[i]);
    ck_assert_msg((mo.rflags & mask) == (hw.rflags & mask),
                  "%s: rflags model 0x%llx, hw 0x%llx (compared 0x%llx)", where,
                  (unsigned long long)mo.rflags, (unsigned long long)hw.rflags,
                  (unsigned long long)mask);
    ck_assert_msg(memcmp(mo.data, hw.data, TM_DATA_LEN) == 0, "%s: data area differs", where);
  }
  tm_free(t);
  kvm_close_m(&k);
}
END_TEST

Suite *suite_model_vs_kvm(void) {
  Suite *s = suite_create("model_vs_kvm");
  TCase *tc = tcase_create("ring3");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_diff, 0, NDCASES);
  suite_add_tcase(s, tc);
  return s;
}
