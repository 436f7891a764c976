/* test_manifest.c - library names, library.yml and component definitions
 * (libraries.md §1, §2.1, §2.2), with PyYAML's typing of plain scalars. */
#include <string.h>
#include "openbook/core/buf.h"
#include "openbook/files/manifest.h"
#include "tests.h"

static ob_arena A;

static void setup(void)
{
    ob_arena_init(&A, 4096);
}

static void teardown(void)
{
    ob_arena_destroy(&A);
}

#define S(x) (x), strlen(x)

START_TEST(test_names)
{
    ck_assert(ob_library_part_valid(S("openbook-studio")));
    ck_assert(ob_library_part_valid(S("a12")));
    ck_assert(ob_library_part_valid(S("x.y_z-1")));
    ck_assert(!ob_library_part_valid(S("ab")));       /* too short */
    ck_assert(!ob_library_part_valid(S("123")));      /* no letter */
    ck_assert(!ob_library_part_valid(S("Core")));     /* upper case */
    ck_assert(!ob_library_part_valid(S("a b c")));
    ck_assert(!ob_library_part_valid(S("caf\xc3\xa9")));
    char long_part[102];
    memset(long_part, 'a', sizeof long_part);
    ck_assert(ob_library_part_valid(long_part, 100));
    ck_assert(!ob_library_part_valid(long_part, 101));

    const char *org, *name;
    size_t ol, nl;
    ck_assert(ob_library_fqn_parse(S("@openbook-studio/core"), &org, &ol, &name, &nl));
    ck_assert(ol == 15 && memcmp(org, "openbook-studio", 15) == 0);
    ck_assert(nl == 4 && memcmp(name, "core", 4) == 0);
    const char *bad[] = {"openbook/core", "@openbook", "@openbook/", "@/core", "@ob/core",
                         "@openbook/core/x", "@openbook/Core", "@@openbook/core", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!ob_library_fqn_parse(S(bad[i]), &org, &ol, &name, &nl), "%s", bad[i]);

    ck_assert(ob_tag_name_valid(S("ob-info-box")));
    ck_assert(ob_tag_name_valid(S("x-1.2_3")));
    const char *bad_tags[] = {"obinfo", "Ob-box", "1-box", "-box", "ob box-x", "font-face",
                              "annotation-xml", "ob-\xc3\xa4", ""};
    for (size_t i = 0; i < sizeof bad_tags / sizeof bad_tags[0]; i++)
        ck_assert_msg(!ob_tag_name_valid(S(bad_tags[i])), "%s", bad_tags[i]);
    char tag[102];
    memset(tag, 'a', sizeof tag);
    tag[1] = '-';
    ck_assert(ob_tag_name_valid(tag, 100));
    ck_assert(!ob_tag_name_valid(tag, 101));
}
END_TEST

static ob_manifest_status parse(const char *yaml, ob_library_manifest *m, const char **msg)
{
    return ob_manifest_parse(&A, yaml, strlen(yaml), 1 << 20, m, msg);
}

START_TEST(test_manifest_full)
{
    ob_library_manifest m;
    const char *msg;
    ck_assert_int_eq(parse("name: \"@test/demo\"\n"
                           "version: 1.0.0-pre1\n"
                           "author: Ada\n"
                           "license: MIT\n"
                           "website: https://example.org/lib\n"
                           "coderepo: not a url\n"
                           "bugtracker: 42\n"
                           "readme: |\n  # Demo\n  text\n"
                           "description:\n  en: English\n  de: Deutsch\n  fr: 7\n  en: Again\n"
                           "dependencies:\n  \"@test/base\": \">= 1.0.0\"\n  \"@test/x\": [1]\n"
                           "unknown: ignored\n",
                           &m, &msg),
                     OB_MANIFEST_OK);
    ck_assert_ptr_null(msg);
    ck_assert_str_eq(m.organization, "test");
    ck_assert_str_eq(m.name, "demo");
    ck_assert_str_eq(m.version, "1.0.0-pre1");
    ck_assert_str_eq(m.author, "Ada");
    ck_assert_str_eq(m.license, "MIT");
    ck_assert_str_eq(m.website, "https://example.org/lib");
    ck_assert_str_eq(m.coderepo, ""); /* invalid URL */
    ck_assert_str_eq(m.bugtracker, ""); /* an int, not a string */
    ck_assert_str_eq(m.readme, "# Demo\ntext\n");
    /* A repeated key keeps its first place and its last value; only
     * string values count. */
    ck_assert_uint_eq(m.ndescription, 2);
    ck_assert_str_eq(m.description[0].key, "en");
    ck_assert_str_eq(m.description[0].value, "Again");
    ck_assert_str_eq(m.description[1].key, "de");
    ck_assert_str_eq(m.description[1].value, "Deutsch");
    ck_assert_uint_eq(m.ndependencies, 1);
    ck_assert_str_eq(m.dependencies[0].key, "@test/base");
    ck_assert_str_eq(m.dependencies[0].value, ">= 1.0.0");
}
END_TEST

START_TEST(test_manifest_defaults_and_cuts)
{
    ob_library_manifest m;
    const char *msg;
    ck_assert_int_eq(parse("{name: '@test/demo', version: '2.0.0'}", &m, &msg), OB_MANIFEST_OK);
    ck_assert_str_eq(m.author, "");
    ck_assert_str_eq(m.readme, "");
    ck_assert_uint_eq(m.ndescription, 0);
    ck_assert_uint_eq(m.ndependencies, 0);

    /* author <= 100, license <= 50, descriptions <= 255 characters
     * (characters, not bytes: a cut never splits one). */
    ob_buf b;
    ob_buf_init(&b, &A);
    ob_buf_puts(&b, "name: '@test/demo'\nversion: 1.0.0\nauthor: '");
    for (int i = 0; i < 150; i++)
        ob_buf_puts(&b, "\xc3\xa4");
    ob_buf_puts(&b, "'\nlicense: '");
    for (int i = 0; i < 60; i++)
        ob_buf_putc(&b, 'x');
    ob_buf_puts(&b, "'\ndescription: {en: '");
    for (int i = 0; i < 300; i++)
        ob_buf_putc(&b, 'd');
    ob_buf_puts(&b, "'}\n");
    ck_assert_int_eq(parse(ob_buf_cstr(&b), &m, &msg), OB_MANIFEST_OK);
    ck_assert_uint_eq(strlen(m.author), 200); /* 100 two-byte characters */
    ck_assert_uint_eq(strlen(m.license), 50);
    ck_assert_uint_eq(m.description[0].value_len, 255);
}
END_TEST

START_TEST(test_manifest_invalid)
{
    const char *cases[] = {
        "",                                            /* empty document */
        "- a\n- b\n",                                  /* not a mapping */
        "name: [x\n",                                  /* not YAML */
        "version: 1.0.0\n",                            /* no name */
        "name: '@test/demo'\n",                        /* no version */
        "name: '@test/demo'\nversion: 1.0\n",          /* a float */
        "name: '@test/demo'\nversion: '1.0'\n",        /* not semver */
        "name: '@Test/demo'\nversion: 1.0.0\n",        /* upper case */
        "name: test/demo\nversion: 1.0.0\n",           /* no @ */
        "name: \"@test/demo\\0\"\nversion: 1.0.0\n",   /* a NUL */
        "name: '@test/demo'\nversion: !!int 1\n",
        "\xff\xfe garbage",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ob_library_manifest m;
        const char *msg;
        ck_assert_msg(parse(cases[i], &m, &msg) == OB_MANIFEST_INVALID, "case %zu", i);
        ck_assert_str_eq(msg, OB_ARCHIVE_INVALID_MESSAGE);
        ck_assert_ptr_null(m.name);
    }
}
END_TEST

START_TEST(test_manifest_limits_and_dependencies)
{
    ob_library_manifest m;
    const char *msg;
    const char *y = "name: '@test/demo'\nversion: 1.0.0\n";
    ck_assert_int_eq(ob_manifest_parse(&A, y, strlen(y), strlen(y) - 1, &m, &msg),
                     OB_MANIFEST_TOO_LARGE);
    ck_assert_str_eq(msg, "A manifest file is too large.");
    ck_assert_int_eq(ob_manifest_parse(&A, y, strlen(y), strlen(y), &m, &msg), OB_MANIFEST_OK);

    ck_assert_int_eq(parse("name: '@test/demo'\nversion: 1.0.0\n"
                           "dependencies: {'@test/base': '1,2,3'}\n",
                           &m, &msg),
                     OB_MANIFEST_BAD_DEPENDENCY);
    ck_assert_str_eq(msg, "Invalid version expression for @test/base.");
    ck_assert_int_eq(parse("name: '@test/demo'\nversion: 1.0.0\n"
                           "dependencies: {'@TEST/Demo': '*'}\n",
                           &m, &msg),
                     OB_MANIFEST_SELF_DEPENDENCY);
    ck_assert_str_eq(msg, "A library cannot depend on itself.");
}
END_TEST

/* The stored author of a manifest whose author is `value` as written. */
static const char *author_of(const char *value)
{
    char *y = ob_arena_printf(&A, "name: '@test/demo'\nversion: 1.0.0\nauthor: %s\n", value);
    ob_library_manifest m;
    const char *msg;
    ck_assert_int_eq(parse(y, &m, &msg), OB_MANIFEST_OK);
    return m.author;
}

START_TEST(test_yaml_typing)
{
    /* Plain scalars that PyYAML reads as something else count as absent
     * (each list checked against PyYAML 6's safe_load). */
    const char *not_strings[] = {"~", "null", "yes", "No", "on", "OFF", "true", "False", "12",
                                 "-0x1F", "017", "0b101", "1_000", "1:30", "+12", "0_", "1.5",
                                 ".inf", "-.Inf", ".NaN", "1.", "6.8523015e+5", "190:20:30.15",
                                 "2002-12-14", "2001-12-14t21:59:43.10-05:00",
                                 "2001-12-14 21:59:43.10 -5", "2001-12-14 21:59:43",
                                 "2001-1-4T1:59:43Z"};
    for (size_t i = 0; i < sizeof not_strings / sizeof not_strings[0]; i++)
        ck_assert_msg(!*author_of(not_strings[i]), "%s read as a string", not_strings[i]);
    const char *strings[] = {"1.0.0", "Ada Lovelace", "yess", "0x", "v1", "1.5e3", "-.5", "1e",
                             "0o17", "08", "2002-1-1", "1:60", "<<", "="};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        ck_assert_msg(strcmp(author_of(strings[i]), strings[i]) == 0, "%s should be a string",
                      strings[i]);
    /* Quoted, any scalar is a string. */
    ck_assert_str_eq(author_of("\"yes\""), "yes");
    ck_assert_str_eq(author_of("'12'"), "12");
}
END_TEST

static ob_component_status comp(const char *yaml, ob_component_def *d, const char **reason)
{
    return ob_component_parse(&A, yaml, strlen(yaml), d, reason);
}

START_TEST(test_component_normalized)
{
    ob_component_def d;
    const char *reason;
    ck_assert_int_eq(comp("tag-name: ob-hello\n"
                          "description: {en: Hello, de: Hallo, fr: [x]}\n"
                          "text-allowed: yes\n"
                          "html-allowed: \"true\"\n"
                          "allowed-children: [ob-a, 1, ob-b, {x: y}]\n"
                          "attributes:\n"
                          "  name:\n"
                          "    description: {en: The name}\n"
                          "    regex: '^[a-z]+$'\n"
                          "    enum: [a, b, 3]\n"
                          "  flag:\n"
                          "  other: {regex: 5, enum: x}\n"
                          "  7: {regex: x}\n"
                          "events: [mouseover, mouseleave, focus, null]\n"
                          "unknown: 1\n",
                          &d, &reason),
                     OB_COMPONENT_OK);
    ck_assert_str_eq(d.tag_name, "ob-hello");
    ck_assert_str_eq(d.definition,
                     "{\"tag-name\":\"ob-hello\","
                     "\"description\":{\"en\":\"Hello\",\"de\":\"Hallo\"},"
                     "\"text-allowed\":true,\"html-allowed\":false,"
                     "\"allowed-children\":[\"ob-a\",\"ob-b\"],"
                     "\"attributes\":{"
                     "\"name\":{\"name\":\"name\",\"description\":{\"en\":\"The name\"},"
                     "\"regex\":\"^[a-z]+$\",\"enum\":[\"a\",\"b\"]},"
                     "\"flag\":{\"name\":\"flag\",\"description\":{},\"regex\":\"\",\"enum\":[]},"
                     "\"other\":{\"name\":\"other\",\"description\":{},\"regex\":\"\",\"enum\":[]}},"
                     "\"events\":[\"mouseover\",\"mouseleave\",\"focus\"]}");
    ck_assert_uint_eq(d.definition_len, strlen(d.definition));

    /* The minimal definition: every value at its default. */
    ck_assert_int_eq(comp("tag-name: ob-x\n", &d, &reason), OB_COMPONENT_OK);
    ck_assert_str_eq(d.definition,
                     "{\"tag-name\":\"ob-x\",\"description\":{},\"text-allowed\":false,"
                     "\"html-allowed\":false,\"allowed-children\":[],\"attributes\":{},"
                     "\"events\":[]}");
    /* Escaping goes through the JSON writer. */
    ck_assert_int_eq(comp("tag-name: ob-x\ndescription: {en: \"say \\\"hi\\\"\\n\"}\n", &d,
                          &reason),
                     OB_COMPONENT_OK);
    ck_assert(strstr(d.definition, "\"en\":\"say \\\"hi\\\"\\n\"") != NULL);
}
END_TEST

START_TEST(test_component_skip_and_invalid)
{
    ob_component_def d;
    const char *reason;
    ck_assert_int_eq(comp("description: {en: no tag}\n", &d, &reason), OB_COMPONENT_SKIP);
    ck_assert_int_eq(comp("tag-name: 12\n", &d, &reason), OB_COMPONENT_SKIP);
    ck_assert_int_eq(comp("tag-name: [ob-x]\n", &d, &reason), OB_COMPONENT_SKIP);
    ck_assert_int_eq(comp("- a list\n", &d, &reason), OB_COMPONENT_SKIP);
    ck_assert_int_eq(comp("", &d, &reason), OB_COMPONENT_SKIP);

    ck_assert_int_eq(comp("tag-name: NoHyphen\n", &d, &reason), OB_COMPONENT_INVALID);
    ck_assert_ptr_nonnull(strstr(reason, "NoHyphen"));
    ck_assert_int_eq(comp("tag-name: font-face\n", &d, &reason), OB_COMPONENT_INVALID);
    ck_assert_int_eq(comp("tag-name: [ob-x\n", &d, &reason), OB_COMPONENT_INVALID);
    ck_assert_ptr_nonnull(strstr(reason, "YAML error"));
    ck_assert_ptr_nonnull(strstr(reason, "line"));
}
END_TEST

/* Aliases let a small file reach the same nodes many times ("billion
 * laughs"): the budget stops it instead of producing gigabytes. */
START_TEST(test_component_alias_budget)
{
    ob_buf b;
    ob_buf_init(&b, &A);
    ob_buf_puts(&b, "base: &d {description: {");
    for (int i = 0; i < 10000; i++)
        ob_buf_printf(&b, "k%d: v, ", i);
    ob_buf_puts(&b, "}}\ntag-name: ob-bomb\nattributes: {");
    for (int i = 0; i < 1000; i++)
        ob_buf_printf(&b, "a%d: *d, ", i);
    ob_buf_puts(&b, "}\n");
    ob_component_def d;
    const char *reason;
    ck_assert_int_eq(ob_component_parse(&A, b.data, b.len, &d, &reason), OB_COMPONENT_INVALID);
    ck_assert_str_eq(reason, "the document is too complex");
    /* A few aliases are fine. */
    ck_assert_int_eq(comp("x: &e {enum: [a, b]}\ntag-name: ob-x\nattributes: {p: *e, q: *e}\n",
                          &d, &reason),
                     OB_COMPONENT_OK);
    ck_assert_ptr_nonnull(strstr(d.definition, "\"q\":{\"name\":\"q\",\"description\":{},"
                                               "\"regex\":\"\",\"enum\":[\"a\",\"b\"]}"));
    /* A recursive alias neither loops nor crashes. */
    ck_assert_int_eq(comp("tag-name: ob-x\nattributes: &r {p: *r}\n", &d, &reason),
                     OB_COMPONENT_OK);
}
END_TEST

Suite *manifest_suite(void)
{
    Suite *s = suite_create("manifest");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_manifest_full);
    tcase_add_test(tc, test_manifest_defaults_and_cuts);
    tcase_add_test(tc, test_manifest_invalid);
    tcase_add_test(tc, test_manifest_limits_and_dependencies);
    tcase_add_test(tc, test_yaml_typing);
    tcase_add_test(tc, test_component_normalized);
    tcase_add_test(tc, test_component_skip_and_invalid);
    tcase_add_test(tc, test_component_alias_budget);
    suite_add_tcase(s, tc);
    return s;
}
