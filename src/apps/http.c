/* http.c — the `http` application: a request on the loop (libcurl multi). */
#include <stddef.h>

#include "apps/registry.h"
#include "scenario/param.h"

#define F(type, field) offsetof(type, field)

static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", NULL};

typedef struct http_params {
    int method;
    const scn_template *url;
    scn_template_map headers;
    const scn_template *body;
    const scn_jval *json;
    scn_string_map save;      /* variable -> JSONPath-like path ($.agent.extension) */
    bool verify_tls;
} http_params;

static const scn_param http_spec[] = {
    {.name = "method", .type = P_ENUM, .offset = F(http_params, method), .choices = methods, .def = "GET",
     .doc = "GET, POST, PUT, PATCH, DELETE or HEAD"},
    {.name = "url", .type = P_TEMPLATE, .offset = F(http_params, url), .flags = P_REQ,
     .doc = "the URL; variables in it are percent-encoded"},
    {.name = "headers", .type = P_TEMPLATE_MAP, .offset = F(http_params, headers),
     .doc = "request headers (templates; CR/LF removed)"},
    {.name = "body", .type = P_TEMPLATE, .offset = F(http_params, body), .flags = P_ONEOF_B,
     .doc = "request body (a template)"},
    {.name = "json", .type = P_JSON, .offset = F(http_params, json), .flags = P_ONEOF_B,
     .doc = "a map sent as a JSON body; its strings are templates"},
    {.name = "save", .type = P_STRING_MAP, .offset = F(http_params, save),
     .doc = "variable: path into the JSON answer ($.agent.extension)"},
    {.name = "verify_tls", .type = P_BOOL, .offset = F(http_params, verify_tls), .def = "true",
     .doc = "verify the server's TLS certificate"},
    SCN_PARAM_END,
};

const app_def app_http_table[] = {
    {.name = "http", .family = "integration",
     .summary = "Call an HTTP service; results in http_status, http_body, http_error and `save`.",
     .params = http_spec, .params_size = sizeof(http_params), .flags = APP_WAITS, .default_timeout = 5},
    APP_END,
};
