/* api_common.c - the /auth-api/ envelope, input reading and messages
 * (auth_api.h; api-auth.md §2, §3, §6, §8). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "openbook/auth/auth_api.h"
#include "openbook/core/config.h"
#include "openbook/db/db.h"
#include "openbook/core/log.h"
#include "openbook/auth/password.h"
#include "openbook/auth/session.h"
#include "openbook/http/validate.h"

/* ---- messages: English is normative; German where translated ---- */

static const struct {
    const char *code, *en, *de;
} messages[] = {
    {"required", "This field is required.", "Dieses Feld ist zwingend erforderlich."},
    {"invalid_string", "Not a valid string.", "Keine gültige Zeichenkette."},
    {"invalid_chars", "This field contains invalid characters.",
     "Dieses Feld enthält ungültige Zeichen."},
    {"username_password_mismatch", "The username and/or password you specified are not correct.",
     "Der Anmeldename und/oder das Passwort sind leider falsch."},
    {"too_many_login_attempts", "Too many failed login attempts. Try again later.",
     "Zu viele gescheiterte Anmeldeversuche. Bitte versuchen Sie es später erneut."},
    {"invalid_or_expired_key", "Invalid or expired key.", "Ungültiger oder abgelaufener Schlüssel."},
    {"invalid_password_reset", "The password reset token was invalid.",
     "Das Sicherheits-Token zum Zurücksetzen des Passwortes war ungültig."},
    {"incorrect_code", "Incorrect code.", "Falscher Code."},
    {"incorrect_password", "Incorrect password.", "Falsches Passwort."},
    {"enter_current_password", "Please type your current password.",
     "Bitte geben Sie Ihr aktuelles Passwort ein."},
    {"email_taken", "A user is already registered with this email address.",
     "Ein anderer Nutzer hat sich bereits mit dieser E-Mail-Adresse registriert."},
    {"duplicate_email", "This email address is already associated with this account.",
     "Diese E-Mail-Adresse wird bereits in diesem Konto verwendet."},
    {"cannot_remove_primary_email", "You cannot remove your primary email address.",
     "Sie können Ihre primäre E-Mail-Adresse nicht entfernen."},
    {"unverified_primary_email", "Your primary email address must be verified.",
     "Ihre primäre E-Mail-Adresse muss bestätigt werden."},
    {"unknown_email", "Unknown email address.", "Unbekannte E-Mail-Adresse."},
    {"max_email_addresses", "You cannot add more than %ld email addresses.",
     "Sie können nicht mehr als %ld E-Mail-Adressen hinzufügen."},
    {"min_length", "Ensure this value has at least %ld characters (it has %ld).",
     "Stellen Sie sicher, dass dieser Wert aus mindestens %ld Zeichen besteht. "
     "(Er besteht aus %ld Zeichen.)"},
    {"max_length", "Ensure this value has at most %ld characters (it has %ld).",
     "Stellen Sie sicher, dass dieser Wert aus höchstens %ld Zeichen besteht. "
     "(Er besteht aus %ld Zeichen.)"},
    {"username_invalid",
     "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ "
     "characters.",
     "Bitte einen gültigen Benutzernamen eingeben, der nur Buchstaben, Ziffern und @/./+/-/_ "
     "enthalten darf."},
    {"username_blacklisted", "Username can not be used. Please use other username.",
     "Anmeldename kann nicht verwendet werden. Bitte wähle einen anderen Anmeldenamen."},
    {"username_taken", "A user with that username already exists.",
     "Ein Benutzer mit diesem Benutzernamen existiert bereits."},
    {"email_invalid", "Enter a valid email address.", "Bitte gültige E-Mail-Adresse eingeben."},
    {"email_suffix", "This e-mail is not allowed to sign-up. The e-mail must end with %s",
     "Diese E-Mail-Adresse ist für die Registrierung nicht zugelassen. Die E-Mail-Adresse muss "
     "auf %s enden"},
    {"password_too_short", "This password is too short. It must contain at least 8 characters.",
     "Dieses Passwort ist zu kurz. Es muss mindestens 8 Zeichen enthalten."},
    {"password_too_common", "This password is too common.", "Dieses Passwort ist zu üblich."},
    {"password_entirely_numeric", "This password is entirely numeric.",
     "Dieses Passwort ist komplett numerisch."},
};

static bool german(const ob_authapi *a)
{
    return a->r->language && strcmp(a->r->language, "de") == 0;
}

const char *ob_authapi_msg(ob_authapi *a, const char *code)
{
    for (size_t i = 0; i < sizeof messages / sizeof *messages; i++)
        if (strcmp(messages[i].code, code) == 0)
            return german(a) ? messages[i].de : messages[i].en;
    return code;
}

void ob_authapi_add_error(ob_authapi *a, const char *code, const char *param, const char *message)
{
    if (a->nerrors == a->errcap) {
        size_t cap = a->errcap ? a->errcap * 2 : 8;
        ob_authapi_error *e = ob_arena_alloc(a->r->arena, cap * sizeof *e);
        if (a->nerrors)
            memcpy(e, a->errors, a->nerrors * sizeof *e);
        a->errors = e;
        a->errcap = cap;
    }
    a->errors[a->nerrors++] = (ob_authapi_error){code, message, param};
}

/* ---- password rules, with the German texts ---- */

struct rules_ctx {
    ob_authapi *a;
    const char *param;
};

static const char *similar_de(const char *en)
{
    static const struct {
        const char *en, *de;
    } labels[] = {{"username", "dem Benutzernamen"}, {"first name", "dem Vornamen"},
                  {"last name", "dem Nachnamen"}, {"email address", "der E-Mail-Adresse"}};
    for (size_t i = 0; i < sizeof labels / sizeof *labels; i++) {
        char tail[64];
        snprintf(tail, sizeof tail, "the %s.", labels[i].en);
        size_t n = strlen(en), t = strlen(tail);
        if (n >= t && strcmp(en + n - t, tail) == 0)
            return labels[i].de;
    }
    return NULL;
}

static void rules_report(void *p, const char *code, const char *message)
{
    struct rules_ctx *c = p;
    ob_authapi *a = c->a;
    const char *msg = ob_arena_strdup(a->r->arena, message);
    if (german(a)) {
        const char *de = similar_de(message);
        if (strcmp(code, "password_too_similar") == 0 && de)
            msg = ob_arena_printf(a->r->arena, "Das Passwort ist %s zu ähnlich.", de);
        else if (strcmp(code, "max_length") != 0)
            msg = ob_authapi_msg(a, code);
    }
    ob_authapi_add_error(a, code, c->param, msg);
}

int ob_authapi_password_rules(ob_authapi *a, const char *param, const char *pw,
                              const char *const similar_to[4])
{
    struct rules_ctx c = {a, param};
    return ob_password_check(pw, strlen(pw), similar_to, rules_report, &c);
}

/* ---- start of a request ---- */

static void free_state(void *p)
{
    ob_authapi *a = p;
    cJSON_Delete(a->data);
}

static double epoch_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000) / 1e6;
}

ob_authapi *ob_authapi_begin(ob_request *r)
{
    ob_auth_worker_init(r->cfg);
    ob_authapi *a = ob_arena_calloc(r->arena, 1, sizeof *a);
    a->r = r;
    a->app = strncmp(r->path, "/auth-api/app/", 14) == 0;
    a->now = epoch_now();
    if (r->session && r->session->data)
        a->data = cJSON_Parse(r->session->data);
    if (!cJSON_IsObject(a->data)) {
        cJSON_Delete(a->data);
        a->data = cJSON_CreateObject();
    }
    ob_arena_defer(r->arena, free_state, a);
    /* Only a session login counts here: an API token is no session. */
    if (r->user && r->session && r->session->user_id == r->user->id)
        a->user = r->user;
    return a;
}

/* ---- input ---- */

static int body_fail(ob_authapi *a, int status)
{
    ob_authapi_status(a, status);
    return -1;
}

int ob_authapi_read_body(ob_authapi *a)
{
    ob_request *r = a->r;
    if (r->content_length > r->cfg->max_body_bytes)
        return body_fail(a, 413);
    if (r->content_length > 0 &&
        (!r->content_type || strcmp(r->content_type, "application/json") != 0))
        return body_fail(a, 415);
    if (ob_request_read_body(r) != 0)
        return body_fail(a, 400);
    /* A string a C string cannot carry is named, before anything else. */
    const char *bad = r->body_len ? ob_json_bad_string_member(r->arena, r->body, r->body_len)
                                  : NULL;
    if (bad) {
        ob_authapi_add_error(a, "invalid", bad, ob_authapi_msg(a, "invalid_chars"));
        ob_authapi_errors(a);
        return -1;
    }
    size_t at;
    const char *type;
    if (ob_request_parse_json(r, &at, &type) != OB_BODY_OK)
        return body_fail(a, 400);
    a->body = r->json; /* freed with the request */
    return 0;
}

static const char *trim(ob_authapi *a, const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    return ob_arena_strndup(a->r->arena, s, n);
}

int ob_authapi_string(ob_authapi *a, const char *name, size_t max_chars, unsigned flags,
                      const char **out)
{
    *out = NULL;
    cJSON *v = a->body ? cJSON_GetObjectItemCaseSensitive(a->body, name) : NULL;
    const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
    if (v && !cJSON_IsNull(v) && !s) {
        ob_authapi_add_error(a, "invalid", name, ob_authapi_msg(a, "invalid_string"));
        return -1;
    }
    if (s && (flags & OB_FIELD_TRIM))
        s = trim(a, s);
    if (!s || !*s) {
        if (flags & OB_FIELD_REQUIRED)
            ob_authapi_add_error(a, "required", name, ob_authapi_msg(a, "required"));
        return 0;
    }
    size_t n = ob_utf8_count(s, strlen(s));
    if (n > max_chars) {
        ob_authapi_add_error(a, "max_length", name,
                             ob_arena_printf(a->r->arena, ob_authapi_msg(a, "max_length"),
                                             (long)max_chars, (long)n));
        return -1;
    }
    *out = s;
    return 1;
}

const char *ob_authapi_header(ob_authapi *a, const char *cgi_name, size_t max)
{
    const char *h = ob_request_param(a->r, cgi_name);
    if (!h)
        return NULL;
    h = trim(a, h);
    return *h && strlen(h) <= max ? h : NULL;
}

const char *ob_authapi_email_field(ob_authapi *a)
{
    const char *email;
    if (ob_authapi_string(a, "email", OB_EMAIL_MAX, OB_FIELD_TRIM | OB_FIELD_REQUIRED, &email) == 1 &&
        !ob_valid_email(email, strlen(email))) {
        ob_authapi_add_error(a, "invalid", "email", ob_authapi_msg(a, "email_invalid"));
        return NULL;
    }
    return email ? ob_authapi_lower(a, email) : NULL;
}

char *ob_authapi_lower(ob_authapi *a, const char *s)
{
    return ob_arena_strdup_lower(a->r->arena, s);
}

/* ---- responses ---- */

static void finish(ob_authapi *a)
{
    if (!a->app)
        ob_csrf_cookie(a->r, a->rotate_csrf);
}

ob_json *ob_authapi_body(ob_authapi *a, int status)
{
    ob_json *j = ob_json_response(a->r, status);
    ob_json_object_begin(j);
    ob_json_kv_int(j, "status", status);
    return j;
}

void ob_authapi_end(ob_authapi *a, ob_json *j)
{
    ob_json_object_end(j);
    finish(a);
}

void ob_auth_api_status(ob_request *r, int status)
{
    ob_json *j = ob_json_response(r, status);
    ob_json_object_begin(j);
    ob_json_kv_int(j, "status", status);
    ob_json_object_end(j);
}

void ob_authapi_status(ob_authapi *a, int status)
{
    ob_authapi_end(a, ob_authapi_body(a, status));
}

void ob_authapi_errors(ob_authapi *a)
{
    ob_json *j = ob_authapi_body(a, 400);
    ob_json_key(j, "errors");
    ob_json_array_begin(j);
    for (size_t i = 0; i < a->nerrors; i++) {
        ob_json_object_begin(j);
        ob_json_kv_string(j, "code", a->errors[i].code);
        ob_json_kv_string(j, "message", a->errors[i].message);
        if (a->errors[i].param)
            ob_json_kv_string(j, "param", a->errors[i].param);
        ob_json_object_end(j);
    }
    ob_json_array_end(j);
    ob_authapi_end(a, j);
}

void ob_authapi_fail(ob_authapi *a, const char *code, const char *param)
{
    ob_authapi_add_error(a, code, param, ob_authapi_msg(a, code));
    ob_authapi_errors(a);
}

void ob_authapi_throttled(ob_authapi *a, long retry_after)
{
    char v[24];
    snprintf(v, sizeof v, "%ld", retry_after > 0 ? retry_after : 1);
    ob_response_header(&a->r->res, "Retry-After", v);
    ob_authapi_status(a, 429);
}

void ob_authapi_db_failure(ob_authapi *a)
{
    ob_request *r = a->r;
    /* The same meaning as on /api/ (ob_db_classify): a value the database
     * refused is the request's fault (400), anything else is 503. */
    int status = ob_db_class_status(ob_db_classify(ob_db_last_sqlstate(r->db)));
    if (status >= 500)
        ob_warn("database error on %s %s: %s", r->method_name, r->path,
                ob_db_last_error(r->db));
    ob_db_rollback(r->db);
    /* Nothing of the failed attempt may reach the client (cookies). */
    ob_buf_reset(&r->res.headers);
    a->rotate_csrf = false;
    ob_authapi_status(a, status);
}

void ob_authapi_write_user(ob_authapi *a, ob_json *j, const ob_user *u)
{
    (void)a;
    ob_json_object_begin(j);
    ob_json_kv_int(j, "id", u->id);
    ob_json_kv_string(j, "display", u->username);
    if (u->email && *u->email)
        ob_json_kv_string(j, "email", u->email);
    ob_json_key(j, "has_usable_password");
    ob_json_bool(j, ob_password_usable(u->password_hash));
    ob_json_kv_string(j, "username", u->username);
    ob_json_object_end(j);
}

static void write_member(ob_json *j, const cJSON *f)
{
    ob_json_key(j, f->string);
    if (cJSON_IsString(f))
        ob_json_string(j, f->valuestring);
    else if (cJSON_IsNumber(f))
        ob_json_double(j, f->valuedouble);
    else if (cJSON_IsBool(f))
        ob_json_bool(j, cJSON_IsTrue(f));
    else
        ob_json_null(j);
}

/* A stored method record, numbers as floats ("at").  jsonb reorders keys,
 * so "method" and "at" are put first again, as the original sends them. */
static void write_method(ob_json *j, const cJSON *m)
{
    static const char *const first[] = {"method", "at"};
    ob_json_object_begin(j);
    for (size_t i = 0; i < 2; i++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(m, first[i]);
        if (f)
            write_member(j, f);
    }
    for (const cJSON *f = m->child; f; f = f->next) {
        if (strcmp(f->string, "method") == 0 || strcmp(f->string, "at") == 0)
            continue;
        write_member(j, f);
    }
    ob_json_object_end(j);
}

static void write_methods(ob_authapi *a, ob_json *j)
{
    ob_json_key(j, "methods");
    ob_json_array_begin(j);
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(a->data, "methods");
    const cJSON *m;
    cJSON_ArrayForEach(m, ms)
    {
        if (cJSON_IsObject(m))
            write_method(j, m);
    }
    ob_json_array_end(j);
}

static void write_meta(ob_authapi *a, ob_json *j, bool authenticated)
{
    ob_json_key(j, "meta");
    ob_json_object_begin(j);
    ob_json_key(j, "is_authenticated");
    ob_json_bool(j, authenticated);
    const char *key = ob_session_new_key(a->r);
    if (a->app && key)
        ob_json_kv_string(j, "session_token", key);
    ob_json_object_end(j);
}

void ob_authapi_authenticated(ob_authapi *a)
{
    ob_json *j = ob_authapi_body(a, 200);
    ob_json_key(j, "data");
    ob_json_object_begin(j);
    ob_json_key(j, "user");
    ob_authapi_write_user(a, j, a->user);
    write_methods(a, j);
    ob_json_object_end(j);
    write_meta(a, j, true);
    ob_authapi_end(a, j);
}

void ob_authapi_reauth_required(ob_authapi *a)
{
    ob_json *j = ob_authapi_body(a, 401);
    ob_json_key(j, "data");
    ob_json_object_begin(j);
    ob_json_key(j, "user");
    ob_authapi_write_user(a, j, a->user);
    write_methods(a, j);
    ob_json_key(j, "flows");
    ob_json_array_begin(j);
    if (ob_password_usable(a->user->password_hash)) {
        ob_json_object_begin(j);
        ob_json_kv_string(j, "id", "reauthenticate");
        ob_json_object_end(j);
    }
    ob_json_array_end(j);
    ob_json_object_end(j);
    write_meta(a, j, true);
    ob_authapi_end(a, j);
}

static void flow(ob_json *j, const char *id, bool pending)
{
    ob_json_object_begin(j);
    ob_json_kv_string(j, "id", id);
    if (pending) {
        ob_json_key(j, "is_pending");
        ob_json_bool(j, true);
    }
    ob_json_object_end(j);
}

/* The stage pending in the session, if any (§3 step 5). */
static const char *pending_stage(ob_authapi *a)
{
    if (ob_authapi_stage(a, "verify_email"))
        return "verify_email";
    if (ob_authapi_stage(a, "login_by_code"))
        return "login_by_code";
    return NULL;
}

void ob_authapi_unauthenticated(ob_authapi *a)
{
    bool open = true;
    const char *suffix;
    if (ob_authapi_signup_config(a, &open, &suffix) != 0) {
        ob_authapi_db_failure(a);
        return;
    }
    const char *pending = pending_stage(a);
    ob_json *j = ob_authapi_body(a, 401);
    ob_json_key(j, "data");
    ob_json_object_begin(j);
    ob_json_key(j, "flows");
    ob_json_array_begin(j);
    flow(j, "login", false);
    flow(j, "login_by_code", pending && strcmp(pending, "login_by_code") == 0);
    if (open)
        flow(j, "signup", false);
    if (pending && strcmp(pending, "verify_email") == 0)
        flow(j, "verify_email", true);
    ob_json_array_end(j);
    ob_json_object_end(j);
    write_meta(a, j, false);
    ob_authapi_end(a, j);
}
