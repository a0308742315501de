/* voicemail.h — what the two voicemail applications share (voicemail.c
 * takes messages, voicemail_main.c is the owner's menu). */
#ifndef APP_VOICEMAIL_H
#define APP_VOICEMAIL_H

#include "util/arena.h"

#define VM_SILENCE_SECONDS 5.0    /* a recording ends after this much silence */

/* Digits said one by one ("7 9 1 6"), for numbers read out; in A. */
const char *vm_spaced_digits(cr_arena *a, const char *v);

#endif
