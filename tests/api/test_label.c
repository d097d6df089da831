/*
 * test_label.c - the label record: both JSON forms, serialisation (golden
 * strings: they are the format), every validation rule, provider codes.
 */
#include <mark.h>

#include "harness.h"

#define CODE "001191110102MAD55U9H0F10002"
#define BARE "{\"Label\":\"1\",\"ContentProducer\":\"" CODE "\"," \
             "\"ProduceID\":\"abc-123\",\"ReservedCode1\":\"\"," \
             "\"ContentPropagator\":\"" CODE "\",\"PropagateID\":" \
             "\"abc-123\",\"ReservedCode2\":\"\"}"

static mark_ctx *ctx;

static mark_label *parse(const char *json, int *form)
{
    mark_label *l = NULL;
    int rc = mark_label_parse(ctx, json, strlen(json), &l, form);

    CHECK_MSG(rc == MARK_OK, "%s: %s", json, mark_ctx_errmsg(ctx));
    return l;
}

/* Does checking l find a problem with this code and severity? */
static int has_problem(const mark_label *l, const char *code, int sev)
{
    mark_problems *p = NULL;
    size_t i;
    int found = 0;

    mark_label_check(ctx, l, &p);
    for (i = 0; i < mark_problems_count(p); i++) {
        mark_problem pr;

        mark_problems_get(p, i, &pr);
        if (strcmp(pr.code, code) == 0 && pr.severity == sev)
            found = 1;
    }
    mark_problems_free(p);
    return found;
}

static mark_label *good_label(void)
{
    mark_label *l = NULL;

    CHECK_RC(mark_label_new(ctx, &l), MARK_OK);
    mark_label_set(l, MARK_FIELD_LABEL, "1");
    mark_label_set(l, MARK_FIELD_CONTENT_PRODUCER, CODE);
    mark_label_set(l, MARK_FIELD_PRODUCE_ID, "abc-123");
    CHECK_RC(mark_label_first_write(l), MARK_OK);
    return l;
}

static void test_forms(void)
{
    mark_label *l;
    char *json = NULL;
    int form = -1;

    l = parse(BARE, &form);
    CHECK(form == MARK_FORM_BARE);
    CHECK_STR(mark_label_get(l, MARK_FIELD_PRODUCE_ID), "abc-123");
    CHECK_STR(mark_label_get(l, MARK_FIELD_RESERVED_CODE1), "");
    CHECK_RC(mark_label_check(ctx, l, NULL), MARK_OK);
    CHECK_RC(mark_label_to_json(l, MARK_FORM_BARE, &json, NULL), MARK_OK);
    CHECK_STR(json, BARE);
    mark_free(ctx, json);
    CHECK_RC(mark_label_to_json(l, MARK_FORM_WRAPPED, &json, NULL), MARK_OK);
    CHECK_STR(json, "{\"AIGC\":" BARE "}");
    mark_free(ctx, json);
    mark_label_free(l);

    l = parse("{\"AIGC\":" BARE "}", &form);
    CHECK(form == MARK_FORM_WRAPPED);
    CHECK_STR(mark_label_get(l, MARK_FIELD_LABEL), "1");
    mark_label_free(l);

    /* whitespace, other key order, escapes: all JSON, all accepted */
    l = parse(" {\n \"ProduceID\" : \"a\\u0062c\", \"Label\":\"2\" } ", &form);
    CHECK(form == MARK_FORM_BARE);
    CHECK_STR(mark_label_get(l, MARK_FIELD_PRODUCE_ID), "abc");
    /* serialisation puts Annex E order back and leaves absent keys out */
    CHECK_RC(mark_label_to_json(l, MARK_FORM_BARE, &json, NULL), MARK_OK);
    CHECK_STR(json, "{\"Label\":\"2\",\"ProduceID\":\"abc\"}");
    mark_free(ctx, json);
    mark_label_free(l);
}

static void test_parse_errors(void)
{
    static const char *const bad[] = {
        "", "{", "[]", "\"x\"", "{\"AIGC\":\"text\"}", "{\"a\":\"b\"}",
        "{\"Label\":\"1\"} trailing", "{\"AIGC\":[1]}",
    };
    static char deep[3000];
    mark_label *l;
    size_t i;
    int form;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        l = (mark_label *)1;
        form = -1;
        CHECK_RC(mark_label_parse(ctx, bad[i], strlen(bad[i]), &l, &form),
                 MARK_ELABEL);
        CHECK(l == NULL);
        CHECK(form == MARK_FORM_INVALID);
        CHECK(mark_ctx_errmsg(ctx)[0] != '\0');
    }
    CHECK_RC(mark_ctx_set_limit(ctx, MARK_LIMIT_LABEL_BYTES, 16), MARK_OK);
    CHECK_RC(mark_label_parse(ctx, BARE, strlen(BARE), &l, NULL),
             MARK_ELIMIT);
    CHECK_RC(mark_ctx_set_limit(ctx, MARK_LIMIT_LABEL_BYTES, 65536), MARK_OK);
    CHECK_RC(mark_ctx_set_limit(ctx, MARK_LIMIT_LABEL_BYTES, 0), MARK_EINVAL);
    /* nested past jansson's 2048 levels, well within the size limit */
    memset(deep, '[', sizeof deep);
    CHECK_RC(mark_label_parse(ctx, deep, sizeof deep, &l, NULL),
             MARK_ELABEL);
    CHECK(strstr(mark_ctx_errmsg(ctx), "depth") != NULL);
    /* the limits added later: their defaults, and the end of the list */
    CHECK(mark_ctx_get_limit(ctx, MARK_LIMIT_DURATION) == 86400);
    CHECK(mark_ctx_get_limit(ctx, MARK_LIMIT_FRAMES) == 10000000);
    CHECK_RC(mark_ctx_set_limit(ctx, MARK_LIMIT_COUNT_, 1), MARK_EINVAL);
    CHECK(mark_ctx_get_limit(ctx, MARK_LIMIT_COUNT_) < 0);
}

static void test_extras_and_types(void)
{
    mark_label *l;
    const char *k, *v;

    l = parse("{\"Label\":1,\"ContentProducer\":\"x\",\"ProduceID\":\"y\","
              "\"Vendor\":{\"a\":[1,2]},\"Note\":\"hi\"}", NULL);
    CHECK_STR(mark_label_get(l, MARK_FIELD_LABEL), "1");
    CHECK(mark_label_extra_count(l) == 2);
    CHECK_RC(mark_label_extra_get(l, 0, &k, &v), MARK_OK);
    CHECK_STR(k, "Vendor");
    CHECK_STR(v, "{\"a\":[1,2]}");
    CHECK_RC(mark_label_extra_get(l, 1, &k, &v), MARK_OK);
    CHECK_STR(v, "\"hi\"");
    CHECK_RC(mark_label_extra_get(l, 2, &k, &v), MARK_EINVAL);
    CHECK(has_problem(l, "type", MARK_SEV_ERROR));
    CHECK(has_problem(l, "unknown-key", MARK_SEV_WARNING));
    mark_label_free(l);

    l = parse("{\"Label\":\"1\",\"Label\":\"2\",\"ContentProducer\":\"x\","
              "\"ProduceID\":\"y\"}", NULL);
    CHECK(mark_label_duplicate_keys(l) > 0);
    CHECK(has_problem(l, "duplicate-key", MARK_SEV_ERROR));
    mark_label_free(l);
}

static void test_rules(void)
{
    mark_label *l = good_label();
    mark_label *c;
    mark_problems *p = NULL;

    CHECK_RC(mark_label_check(ctx, l, &p), MARK_OK);
    CHECK(mark_problems_max_severity(p) == MARK_SEV_INFO);
    mark_problems_free(p);
    CHECK_STR(mark_label_get(l, MARK_FIELD_CONTENT_PROPAGATOR), CODE);
    CHECK_STR(mark_label_get(l, MARK_FIELD_PROPAGATE_ID), "abc-123");
    CHECK_STR(mark_label_get(l, MARK_FIELD_RESERVED_CODE2), "");

    /* Label values */
    mark_label_set(l, MARK_FIELD_LABEL, "4");
    CHECK(has_problem(l, "label-value", MARK_SEV_ERROR));
    CHECK_RC(mark_label_check(ctx, l, NULL), MARK_ELABEL);
    CHECK(strstr(mark_ctx_errmsg(ctx), "Label") != NULL);
    mark_label_set(l, MARK_FIELD_LABEL, "11");
    CHECK(has_problem(l, "label-value", MARK_SEV_ERROR));
    mark_label_set(l, MARK_FIELD_LABEL, "3");
    CHECK_RC(mark_label_check(ctx, l, NULL), MARK_OK);
    mark_label_set(l, MARK_FIELD_LABEL, "");
    CHECK(has_problem(l, "empty-field", MARK_SEV_ERROR));
    mark_label_set(l, MARK_FIELD_LABEL, NULL);
    CHECK(has_problem(l, "missing-field", MARK_SEV_ERROR));
    mark_label_set(l, MARK_FIELD_LABEL, "1");

    /* required fields */
    CHECK_RC(mark_label_copy(l, &c), MARK_OK);
    mark_label_set(c, MARK_FIELD_CONTENT_PRODUCER, "");
    CHECK(has_problem(c, "empty-field", MARK_SEV_ERROR));
    mark_label_set(c, MARK_FIELD_CONTENT_PRODUCER, CODE);
    mark_label_set(c, MARK_FIELD_PRODUCE_ID, NULL);
    CHECK(has_problem(c, "missing-field", MARK_SEV_ERROR));
    mark_label_free(c);

    /* the character set: 0x21, 0x23-0x5B, 0x5D-0x7E */
    {
        static const char *const bad[] = { "a b", "a\"b", "a\\b", "a\tb",
                                           "\xe4\xba\xba", "a\x7f" };
        size_t i;

        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            mark_label_set(l, MARK_FIELD_PRODUCE_ID, bad[i]);
            CHECK_MSG(has_problem(l, "charset", MARK_SEV_ERROR), "%zu", i);
        }
        mark_label_set(l, MARK_FIELD_PRODUCE_ID, "!#$%&'()*+,-./:;<=>?@[]^_`{|}~");
        CHECK(!has_problem(l, "charset", MARK_SEV_ERROR));
        mark_label_set(l, MARK_FIELD_PRODUCE_ID, "abc-123");
    }

    /* first-write rule and propagation */
    mark_label_set(l, MARK_FIELD_CONTENT_PROPAGATOR, "");
    CHECK(has_problem(l, "first-write", MARK_SEV_WARNING));
    CHECK_RC(mark_label_check(ctx, l, NULL), MARK_OK);
    mark_label_set(l, MARK_FIELD_CONTENT_PROPAGATOR, "doubao");
    mark_label_set(l, MARK_FIELD_PROPAGATE_ID, "p-1");
    CHECK(has_problem(l, "propagated", MARK_SEV_INFO));
    CHECK(has_problem(l, "provider-name", MARK_SEV_INFO));
    mark_label_set(l, MARK_FIELD_RESERVED_CODE1, NULL);
    CHECK(has_problem(l, "missing-field", MARK_SEV_WARNING));
    mark_label_free(l);
}

static void test_provider(void)
{
    char buf[256];

    CHECK(mark_provider_explain(CODE, buf, sizeof buf) == MARK_PROVIDER_CODE);
    CHECK(strstr(buf, "organisation") != NULL);
    CHECK(strstr(buf, "91110102MAD55U9H0F") != NULL);
    CHECK(strstr(buf, "check character valid") != NULL);
    CHECK(strstr(buf, "generation service 0002") != NULL);
    /* the second real example from the spec */
    CHECK(mark_provider_explain("001191440300708461136T1308L", buf,
                                sizeof buf) == MARK_PROVIDER_CODE);
    CHECK(strstr(buf, "check character valid") != NULL);
    /* one changed character breaks the check character */
    CHECK(mark_provider_explain("001191110102MAD55U9H0G10002", buf,
                                sizeof buf) == MARK_PROVIDER_CODE);
    CHECK(strstr(buf, "does not verify") != NULL);
    /* an individual: an 18-digit ID number with its MOD 11-2 check */
    CHECK(mark_provider_explain("002111010519491231002X00000", buf,
                                sizeof buf) == MARK_PROVIDER_CODE);
    CHECK(strstr(buf, "individual") != NULL);
    CHECK(strstr(buf, "check character valid") != NULL);
    CHECK(strstr(buf, "no service code") != NULL);
    CHECK(mark_provider_explain("991191110102MAD55U9H0F10002", buf,
                                sizeof buf) == MARK_PROVIDER_BAD_CODE);
    CHECK(mark_provider_explain("003191110102MAD55U9H0F10002", buf,
                                sizeof buf) == MARK_PROVIDER_BAD_CODE);
    CHECK(mark_provider_explain("001191110102MAD55U9H0F30002", buf,
                                sizeof buf) == MARK_PROVIDER_BAD_CODE);
    CHECK(mark_provider_explain("doubao", buf, sizeof buf) ==
          MARK_PROVIDER_NAME);
    CHECK(mark_provider_explain("", NULL, 0) == MARK_PROVIDER_EMPTY);
    CHECK(mark_provider_explain(NULL, NULL, 0) == MARK_PROVIDER_EMPTY);
}

static void test_misc(void)
{
    char u1[37], u2[37];
    int i;

    CHECK_RC(mark_uuid_v4(u1), MARK_OK);
    CHECK_RC(mark_uuid_v4(u2), MARK_OK);
    CHECK(strlen(u1) == 36 && u1[14] == '4' && u1[8] == '-');
    CHECK(strchr("89ab", u1[19]) != NULL);
    CHECK(strcmp(u1, u2) != 0);
    for (i = 0; i >= -14; i--)
        CHECK(strcmp(mark_strerror(i), "unknown error") != 0);
    CHECK_STR(mark_strerror(-1000), "unknown error");
    CHECK_STR(mark_field_name(MARK_FIELD_PROPAGATE_ID), "PropagateID");
    CHECK(mark_field_name(MARK_FIELD_COUNT_) == NULL);
    CHECK_STR(mark_verdict_name(MARK_VERDICT_POSSIBLY), "possibly");
    CHECK(mark_version_number() == MARK_VERSION_NUMBER);
    /* NULL handles are accepted by the frees, refused elsewhere */
    mark_label_free(NULL);
    mark_media_free(NULL);
    mark_problems_free(NULL);
    mark_ctx_free(NULL);
    CHECK_RC(mark_label_set(NULL, 0, "x"), MARK_EINVAL);
    CHECK_RC(mark_label_new(NULL, NULL), MARK_EINVAL);
}

int main(void)
{
    if (mark_ctx_new(&ctx, NULL) != MARK_OK)
        return 99;
    test_forms();
    test_parse_errors();
    test_extras_and_types();
    test_rules();
    test_provider();
    test_misc();
    mark_ctx_free(ctx);
    return h_done("test_label");
}
