/* from_program.c — a program's settings as the services' configuration. */
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
