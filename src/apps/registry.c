#include "apps/registry.h"

const app_table app_registry[] = {
    app_flow_table, app_call_table, app_media_table, app_recording_table,
    app_meet_table, app_http_table, app_db_table,   app_email_table, app_history_table,
    app_sms_table,  app_queue_table, app_voicemail_table,
    app_voicemail_main_table, NULL,
};
