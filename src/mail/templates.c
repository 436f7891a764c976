/* templates.c - the five mails of api-auth.md §9 in English and German.
 *
 * Texts follow the original's (allauth's) mails: a greeting naming the
 * site, the content, and a sign-off naming the site and its domain.  Links
 * point at the browser app's paths, absolute from the public base URL.
 * Rendering is pure (no I/O), so the unit tests check it directly. */
#include <ctype.h>
#include <string.h>
#include "openbook/core/buf.h"
#include "openbook/mail/mail.h"

#define SUBJECT_PREFIX "[OpenBook] "

typedef struct {
    const char *greeting;  /* %s: site name */
    const char *signoff;   /* %1$s: site name, %2$s: domain */
    struct {
        const char *subject;
        const char *body;  /* fixed text with {NAME} placeholders */
    } mail[5];
} language_texts;

/* Placeholders: {username} {domain} {link} {code} {email}.  Each body is
 * the content between greeting and sign-off. */
static const language_texts english = {
    "Hello from %s!",
    "Thank you for using %s!\n%s",
    {
        [OB_MAIL_VERIFY] = {"Please Confirm Your Email Address",
                            "You're receiving this email because user {username} has given your "
                            "email address to register an account on {domain}.\n"
                            "\n"
                            "To confirm this is correct, go to {link}"},
        [OB_MAIL_RESET] = {"Password Reset Email",
                           "You're receiving this email because you or someone else has requested "
                           "a password reset for your user account.\n"
                           "It can be safely ignored if you did not request a password reset. "
                           "Click the link below to reset your password.\n"
                           "\n"
                           "{link}\n"
                           "\n"
                           "In case you forgot, your username is {username}."},
        [OB_MAIL_CODE] = {"Sign-In Code",
                          "Your sign-in code is listed below. Please enter it in your open "
                          "browser window.\n"
                          "\n"
                          "{code}\n"
                          "\n"
                          "This mail can be safely ignored if you did not initiate this action."},
        [OB_MAIL_UNKNOWN_ACCOUNT] = {"Unknown Account",
                                     "You are receiving this email because you, or someone else, "
                                     "tried to access an account with email {email}. However, we "
                                     "do not have any record of such an account in our database.\n"
                                     "\n"
                                     "This mail can be safely ignored if you did not initiate this "
                                     "action.\n"
                                     "\n"
                                     "If it was you, you can sign up for an account using the link "
                                     "below.\n"
                                     "\n"
                                     "{link}"},
        [OB_MAIL_ACCOUNT_EXISTS] = {"Account Already Exists",
                                    "You are receiving this email because you, or someone else, "
                                    "tried to sign up for an account using email address:\n"
                                    "\n"
                                    "{email}\n"
                                    "\n"
                                    "However, an account using that email address already exists. "
                                    "In case you have forgotten about this, please use the "
                                    "forgotten password procedure to recover your account:\n"
                                    "\n"
                                    "{link}"},
    },
};

static const language_texts german = {
    "Hallo von %s!",
    "Vielen Dank, dass Sie %s nutzen!\n%s",
    {
        [OB_MAIL_VERIFY] = {"Bitte bestätigen Sie Ihre E-Mail-Adresse",
                            "Sie erhalten diese E-Mail, weil der Benutzer {username} Ihre "
                            "E-Mail-Adresse angegeben hat, um ein Konto auf {domain} zu "
                            "registrieren.\n"
                            "\n"
                            "Um dies zu bestätigen, öffnen Sie bitte {link}"},
        [OB_MAIL_RESET] = {"E-Mail zum Zurücksetzen des Passworts",
                           "Sie erhalten diese E-Mail, weil Sie oder jemand anderes das "
                           "Zurücksetzen des Passworts für Ihr Benutzerkonto angefordert hat.\n"
                           "Sie können diese E-Mail ignorieren, wenn Sie das Zurücksetzen nicht "
                           "angefordert haben. Klicken Sie auf den folgenden Link, um Ihr "
                           "Passwort zurückzusetzen.\n"
                           "\n"
                           "{link}\n"
                           "\n"
                           "Falls Sie ihn vergessen haben: Ihr Benutzername ist {username}."},
        [OB_MAIL_CODE] = {"Anmeldecode",
                          "Ihr Anmeldecode steht unten. Bitte geben Sie ihn in Ihrem geöffneten "
                          "Browserfenster ein.\n"
                          "\n"
                          "{code}\n"
                          "\n"
                          "Sie können diese E-Mail ignorieren, wenn Sie diese Aktion nicht "
                          "ausgelöst haben."},
        [OB_MAIL_UNKNOWN_ACCOUNT] = {"Unbekanntes Konto",
                                     "Sie erhalten diese E-Mail, weil Sie oder jemand anderes "
                                     "versucht hat, auf ein Konto mit der E-Mail-Adresse {email} "
                                     "zuzugreifen. Wir haben jedoch kein solches Konto.\n"
                                     "\n"
                                     "Sie können diese E-Mail ignorieren, wenn Sie diese Aktion "
                                     "nicht ausgelöst haben.\n"
                                     "\n"
                                     "Falls Sie es waren, können Sie über den folgenden Link ein "
                                     "Konto anlegen.\n"
                                     "\n"
                                     "{link}"},
        [OB_MAIL_ACCOUNT_EXISTS] = {"Konto existiert bereits",
                                    "Sie erhalten diese E-Mail, weil Sie oder jemand anderes "
                                    "versucht hat, ein Konto mit dieser E-Mail-Adresse "
                                    "anzulegen:\n"
                                    "\n"
                                    "{email}\n"
                                    "\n"
                                    "Es gibt jedoch bereits ein Konto mit dieser E-Mail-Adresse. "
                                    "Falls Sie das vergessen haben, setzen Sie bitte Ihr Passwort "
                                    "zurück, um wieder Zugang zu Ihrem Konto zu bekommen:\n"
                                    "\n"
                                    "{link}"},
    },
};

bool ob_mail_header_safe(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* Keys are URL-safe by contract (api-auth.md §7); anything else is
 * percent-encoded anyway, so a link can never be cut short or redirected
 * by what goes into it. */
static void put_url_component(ob_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            ob_buf_putc(b, (char)c);
        } else {
            ob_buf_putc(b, '%');
            ob_buf_putc(b, hex[c >> 4]);
            ob_buf_putc(b, hex[c & 15]);
        }
    }
}

/* Codes are stored without the dash; they are shown as XXXX-XXXX. */
static const char *display_code(ob_arena *a, const char *code)
{
    if (strlen(code) == 8 && !strchr(code, '-'))
        return ob_arena_printf(a, "%.4s-%.4s", code, code + 4);
    return code;
}

int ob_mail_render(ob_arena *a, ob_mail_kind kind, const char *lang, const ob_mail_site *site,
                   const char *base_url, const char *to, const ob_mail_vars *v,
                   ob_mail_text *out)
{
    if ((unsigned)kind > OB_MAIL_ACCOUNT_EXISTS || !site || !site->name || !site->domain ||
        !base_url)
        return -1;
    static const ob_mail_vars none = {NULL, NULL, NULL};
    if (!v)
        v = &none;
    const language_texts *t = lang && strncmp(lang, "de", 2) == 0 ? &german : &english;

    /* The link of each kind (api-auth.md §9). */
    ob_buf link;
    ob_buf_init(&link, a);
    ob_buf_puts(&link, base_url);
    switch (kind) {
    case OB_MAIL_VERIFY:
        if (!v->key || !*v->key || !v->username)
            return -1;
        ob_buf_puts(&link, "/app/#/account/verify-email/");
        put_url_component(&link, v->key);
        break;
    case OB_MAIL_RESET:
        if (!v->key || !*v->key || !v->username)
            return -1;
        ob_buf_puts(&link, "/app/#/account/password/reset/key/");
        put_url_component(&link, v->key);
        break;
    case OB_MAIL_CODE:
        if (!v->code || !*v->code)
            return -1;
        break;
    case OB_MAIL_UNKNOWN_ACCOUNT:
        ob_buf_puts(&link, "/app/#/account/signup");
        break;
    case OB_MAIL_ACCOUNT_EXISTS:
        ob_buf_puts(&link, "/app/#/account/password/reset");
        break;
    }

    ob_buf body;
    ob_buf_init(&body, a);
    ob_buf_printf(&body, t->greeting, site->name);
    ob_buf_puts(&body, "\n\n");
    for (const char *s = t->mail[kind].body; *s;) {
        const char *open = strchr(s, '{');
        if (!open) {
            ob_buf_puts(&body, s);
            break;
        }
        ob_buf_append(&body, s, (size_t)(open - s));
        const char *close = strchr(open, '}');
        size_t n = (size_t)(close - open - 1);
        const char *val = "";
        if (n == 8 && strncmp(open + 1, "username", n) == 0)
            val = v->username ? v->username : "";
        else if (n == 6 && strncmp(open + 1, "domain", n) == 0)
            val = site->domain;
        else if (n == 4 && strncmp(open + 1, "link", n) == 0)
            val = ob_buf_cstr(&link);
        else if (n == 4 && strncmp(open + 1, "code", n) == 0)
            val = display_code(a, v->code ? v->code : "");
        else if (n == 5 && strncmp(open + 1, "email", n) == 0)
            val = to ? to : "";
        ob_buf_puts(&body, val);
        s = close + 1;
    }
    ob_buf_puts(&body, "\n\n");
    ob_buf_printf(&body, t->signoff, site->name, site->domain);
    ob_buf_putc(&body, '\n');

    out->subject = ob_arena_printf(a, SUBJECT_PREFIX "%s", t->mail[kind].subject);
    out->body = ob_buf_cstr(&body);
    return 0;
}
