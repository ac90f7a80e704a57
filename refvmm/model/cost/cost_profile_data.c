/* cost_profile_data.c - the default cost profile embedded at build time, so
 * refvmm finds it wherever it is installed (no search path, no fallback).
 * The assembler includes the file relative to the build's working
 * directory (the repository root, where make runs); the Makefile makes this
 * object depend on the JSON file. */
__asm__(".section .rodata\n"
        ".global cost_profile__builtin_json\n"
        ".global cost_profile__builtin_end\n"
        "cost_profile__builtin_json:\n"
        ".incbin \"refvmm/model/profiles/intel-skylake.json\"\n"
        "cost_profile__builtin_end:\n"
        ".byte 0\n"
        ".previous\n");
