/* test_config_telephony.c — cfg_telephony_of: a program's users, gateways
 * and SIP/media settings as the telephony drivers' plain configuration,
 * which outlives the caller's reference to the program (a reload). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "apps/registry.h"
#include "config/from_program.h"
#include "scenario/diag.h"
#include "scenario/program.h"

static scn_program *load(const char *yaml)
{
    scn_diags d;
    scn_diags_init(&d);
    scn_program *p = scn_program_load_buffer("t.yaml", yaml, strlen(yaml), app_registry, &d);
    if (!p)
        scn_diags_print(&d, stderr);
    scn_diags_free(&d);
    return p;
}

static const char *const YAML =
    "settings:\n"
    "  sip: { listen: [\"udp:127.0.0.1:5060\", \"tcp:127.0.0.1:5061\"], core: nta,\n"
    "         auth_failures: { max: 3, window: 1m, ban: 10m },\n"
    "         flood: { rate: 40, burst: 80, action: drop }, session_timer: { expires: 30m, min_se: 90s } }\n"
    "  media: { rtp_ports: \"30000-30100\", address: 127.0.0.2, rtp_timeout: 20s, srtp: optional }\n"
    "  limits: { max_calls: 9, calls_per_second: 2.5 }\n"
    "users:\n"
    "  \"102\": { password: two, srtp: required }\n"
    "  \"101\": { name: Alice, password: pw, symmetric_rtp: true }\n"
    "gateways:\n"
    "  trunk: { uri: \"sip:198.51.100.7\", auth: { username: acct, password: pw }, register: true,\n"
    "           number_pattern: \"[0-9]{3}\" }\n"
    "  open: { uri: \"sip:192.0.2.1\", accept_any_source: true }\n"
    "routes:\n  - { name: r, script: [ { app: answer } ] }\n";

static void test_settings_users_gateways(void **state)
{
    (void)state;
    scn_program *p = load(YAML);
    assert_non_null(p);
    tel_config *c = cfg_telephony_of(p);
    assert_non_null(c);
    const cfg_tel_settings *s = &c->settings;
    assert_int_equal(s->sip_listen_count, 2);
    assert_string_equal(s->sip_listen[1], "tcp:127.0.0.1:5061");
    assert_int_equal(s->auth_fail_max, 3);
    assert_true(s->auth_fail_window == 60 && s->auth_ban == 600);
    assert_true(s->flood_rate == 40 && s->flood_burst == 80 && s->flood_drop);
    assert_true(s->session_expires == 1800 && s->session_min_se == 90);
    assert_int_equal(s->rtp_port_min, 30000);
    assert_int_equal(s->rtp_port_max, 30100);
    assert_string_equal(s->media_address, "127.0.0.2");
    assert_true(s->rtp_timeout == 20);
    assert_int_equal(s->srtp, CFG_SRTP_OPTIONAL);
    assert_int_equal(s->max_calls, 9);
    assert_true(s->calls_per_second == 2.5);
    assert_null(s->cluster_proxy);

    /* The program's own entries, not copies: no conversion per lookup. */
    assert_int_equal(c->user_count, 2);
    assert_ptr_equal(tel_config_user(c, "101"), scn_program_user(p, "101"));
    assert_ptr_equal(tel_config_user(c, "102"), scn_program_user(p, "102"));
    assert_null(tel_config_user(c, "103"));
    assert_null(tel_config_user(c, NULL));
    assert_null(tel_config_user(NULL, "101"));
    assert_int_equal(tel_config_user(c, "102")->srtp, CFG_SRTP_REQUIRED);
    assert_int_equal(c->gateway_count, 2);
    assert_ptr_equal(&c->gateways[0], scn_program_gateway(p, "trunk"));
    assert_string_equal(c->gateways[0].auth_user, "acct");
    assert_true(c->gateways[0].register_);
    assert_true(c->gateways[1].accept_any_source);

    /* The caller's reference goes (a reload): the configuration keeps the
     * program alive, strings and compiled number patterns included (ASan). */
    scn_program_unref(p);
    assert_string_equal(tel_config_user(c, "101")->name, "Alice");
    assert_true(cfg_gateway_number_ok(&c->gateways[0], "123"));
    assert_false(cfg_gateway_number_ok(&c->gateways[0], "1234"));
    assert_false(cfg_gateway_number_ok(&c->gateways[0], "1@evil.example"));
    assert_true(cfg_gateway_number_ok(&c->gateways[1], "+4930123"));
    tel_config *again = tel_config_ref(c);
    assert_ptr_equal(again, c);
    tel_config_unref(c);
    assert_string_equal(again->gateways[1].name, "open");
    tel_config_unref(again);   /* the last one: the program goes with it (LSan) */
}

static void test_null_and_empty(void **state)
{
    (void)state;
    assert_null(cfg_telephony_of(NULL));
    tel_config_unref(NULL);
    assert_null(tel_config_ref(NULL));
    scn_program *p = load("routes:\n  - { name: r, script: [ { app: answer } ] }\n");
    assert_non_null(p);
    tel_config *c = cfg_telephony_of(p);
    scn_program_unref(p);
    assert_int_equal(c->user_count, 0);
    assert_int_equal(c->gateway_count, 0);
    assert_null(tel_config_user(c, "101"));
    assert_int_equal(c->settings.srtp, CFG_SRTP_OFF);
    tel_config_unref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_users_gateways),
        cmocka_unit_test(test_null_and_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
