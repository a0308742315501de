/* registry.h — the one list of application tables (STYLE.md: registries as
 * tables). Each family file exports its table, ending in APP_END. */
#ifndef APP_REGISTRY_H
#define APP_REGISTRY_H

#include "scenario/appdef.h"

/* Every family table, in documentation order, NULL-terminated. */
extern const app_table app_registry[];

extern const app_def app_flow_table[];
extern const app_def app_call_table[];
extern const app_def app_media_table[];
extern const app_def app_recording_table[];
extern const app_def app_http_table[];
extern const app_def app_db_table[];
extern const app_def app_email_table[];
extern const app_def app_history_table[];
extern const app_def app_meet_table[];
extern const app_def app_sms_table[];
extern const app_def app_queue_table[];
extern const app_def app_voicemail_table[];
extern const app_def app_voicemail_main_table[];

#endif
