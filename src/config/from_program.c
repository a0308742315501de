/* from_program.c — a program's settings as the services' and the
 * telephony drivers' configuration. */
#include "config/from_program.h"

svc_config cfg_services_of(const scn_program *p)
{
    if (!p)
        return (svc_config){0};
    const scn_settings *s = &p->settings;
    return (svc_config){
        .smtp_url = s->smtp_url,
        .smtp_from = s->smtp_from,
        .smtp_user = s->smtp_user,
        .smtp_password = s->smtp_password,
        .smtp_starttls = s->smtp_starttls,
        .outbox = s->smtp_outbox,
        .databases = p->databases,
        .database_count = p->database_count,
    };
}

static void program_release(void *p) { scn_program_unref(p); }

tel_config *cfg_telephony_of(scn_program *p)
{
    if (!p)
        return NULL;
    const scn_settings *s = &p->settings;
    cfg_tel_settings t = {
        .sip_listen = s->sip_listen,
        .sip_listen_count = s->sip_listen_count,
        .sip_tls = s->sip_tls,
        .auth_fail_max = s->auth_fail_max,
        .auth_fail_window = s->auth_fail_window,
        .auth_ban = s->auth_ban,
        .session_expires = s->session_expires,
        .session_min_se = s->session_min_se,
        .flood_rate = s->flood_rate,
        .flood_burst = s->flood_burst,
        .flood_drop = s->flood_drop,
        .rtp_port_min = s->rtp_port_min,
        .rtp_port_max = s->rtp_port_max,
        .rtp_io = (cfg_rtp_io)s->rtp_io,
        .media_address = s->media_address,
        .srtp = s->srtp,
        .rtp_timeout = s->rtp_timeout,
        .max_calls = s->max_calls,
        .calls_per_second = s->calls_per_second,
        .cluster_proxy = s->cluster.proxy,
    };
    return tel_config_new(&t, p->users, p->user_count, p->gateways, p->gateway_count, scn_program_ref(p),
                          program_release);
}
