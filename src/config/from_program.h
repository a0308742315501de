/* config/from_program.h — the one place that turns a compiled program's
 * settings into the plain configuration of the layers that must not know
 * the scenario language (services/, telephony/). cli/ calls it when it starts
 * the services and on each reload; simulate/ for a simulated call. */
#ifndef CONFIG_FROM_PROGRAM_H
#define CONFIG_FROM_PROGRAM_H

#include "scenario/program.h"
#include "config/telephony.h"
#include "services/svc.h"

/* The services' configuration from P's settings.smtp and
 * settings.databases (P NULL: all defaults). It borrows P's strings and
 * database table: pass it to svc_new / svc_set_config while P is alive;
 * they copy what they keep, so it needs no freeing. */
svc_config cfg_services_of(const scn_program *p);

/* The telephony drivers' configuration from P's users, gateways and the
 * settings the SIP driver reads (sip, media, limits, cluster.proxy). A new
 * reference (refcount 1) that holds a reference to P: the users and
 * gateways are P's own entries (no copy), alive as long as the
 * configuration is. The caller hands it to the driver, which takes its own
 * reference, then calls tel_config_unref. NULL P: NULL. */
tel_config *cfg_telephony_of(scn_program *p);

#endif
