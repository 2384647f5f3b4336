/* ot_profile.h - Modbus device profiles (register maps), SPEC "Device
 * profile": sensors/profiles/NAME.json. Shared by organtrack-sensors (which
 * encodes values into registers it serves) and organtrack-gateway (which
 * reads registers and decodes values). Addresses are 0-based protocol
 * addresses. Implementation: common/ot_profile.c (owned by the sensors work). */
#ifndef OT_PROFILE_H
#define OT_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"

#define OT_PROFILE_MAX_CHANNELS 32

enum ot_reg_function { OT_FN_COIL = 0, OT_FN_DISCRETE, OT_FN_HOLDING, OT_FN_INPUT };
enum ot_reg_type { OT_T_U16 = 0, OT_T_I16, OT_T_U32, OT_T_I32, OT_T_F32, OT_T_BOOL };
/* What a channel is for: a measurement the gateway reads (the default), or an
 * output it writes ("output":"alarm": a coil that sounds a buzzer or lights
 * a lamp on the container while the local alarm is on). */
enum ot_channel_output { OT_OUT_NONE = 0, OT_OUT_ALARM };

struct ot_profile_channel {
    char name[33];
    enum ot_reg_function function;
    uint16_t address;
    enum ot_reg_type type;
    int word_order_little; /* 32-bit: 0 = big (high word first), 1 = little */
    double scale, offset;  /* value = raw * scale + offset */
    char unit[16];
    enum ot_channel_output output; /* OT_OUT_ALARM: written, never read */
};

struct ot_profile {
    char name[48];
    char vendor[64];
    char source[256];
    size_t n;
    struct ot_profile_channel ch[OT_PROFILE_MAX_CHANNELS];
};

/* name is a bare profile name (looked up as <dir>/<name>.json) or a path
 * (contains '/' or ends in .json). err names file, key and expectation. */
enum ot_err ot_profile_load(const char *name_or_path, const char *dir, struct ot_profile *out,
                            char *err, size_t errlen);
/* Number of 16-bit registers (or bits, for coil/discrete) a channel spans. */
int ot_profile_channel_width(const struct ot_profile_channel *c);
/* Decodes a channel from its registers (regs[0..width-1]; for bool types
 * regs[0] holds the bit 0/1) into an engineering value. */
double ot_profile_decode(const struct ot_profile_channel *c, const uint16_t *regs);
/* Encodes an engineering value into registers (inverse of decode, rounded
 * and clamped to the type's range). */
void ot_profile_encode(const struct ot_profile_channel *c, double value, uint16_t *regs);

#endif
