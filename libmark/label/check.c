/*
 * check.c - validation of a label record against GB 45438 Annex E, and the
 * reading of provider codes.
 *
 * Provider code layout (27 characters [0-9A-Z]), from the TC260 guides:
 *   1-2   "00"
 *   3     subject type: 1 organisation, 2 individual
 *   4     binding method
 *   5-22  the 18-character unified social credit code (organisations,
 *         GB 32100) or citizen ID number (individuals, GB 11643)
 *   23-27 service code: "00000" for none, else 23 = 1 generation or
 *         2 propagation, 24-27 the service number
 * Both 18-character identifiers end in a check character, verified here
 * as a hint (a mismatch is a warning: the code may still be the one the
 * regulator issued).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* GB 32100-2015: unified social credit code check character. */
static int uscc_check_ok(const char *s)
{
    static const char cs[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int w[17] = { 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25,
                               13, 8, 24, 10, 30, 28 };
    int sum = 0, i, c;
    const char *p;

    for (i = 0; i < 18; i++) {
        p = strchr(cs, s[i]);
        if (s[i] == '\0' || p == NULL)
            return 0;
    }
    for (i = 0; i < 17; i++)
        sum += (int)(strchr(cs, s[i]) - cs) * w[i];
    c = 31 - sum % 31;
    if (c == 31)
        c = 0;
    return cs[c] == s[17];
}

/* GB 11643-1999 (ISO 7064 MOD 11-2): citizen ID number check character. */
static int idcard_check_ok(const char *s)
{
    static const int w[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5,
                               8, 4, 2 };
    static const char cs[] = "10X98765432";
    int sum = 0, i;

    for (i = 0; i < 17; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        sum += (s[i] - '0') * w[i];
    }
    return cs[sum % 11] == s[17];
}

int mark_provider_explain(const char *v, char *buf, size_t cap)
{
    char id[19], svc[6];
    const char *why = NULL;
    size_t i, n;
    int ok_check;

    if (buf != NULL && cap > 0)
        buf[0] = '\0';
    if (v == NULL || v[0] == '\0')
        return MARK_PROVIDER_EMPTY;
    n = strlen(v);
    for (i = 0; i < n; i++)
        if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'A' && v[i] <= 'Z')))
            break;
    if (n != 27 || i != n) {
        if (buf != NULL && cap > 0)
            snprintf(buf, cap, "a name, not a 27-character provider code");
        return MARK_PROVIDER_NAME;
    }
    memcpy(id, v + 4, 18);
    id[18] = '\0';
    memcpy(svc, v + 22, 5);
    svc[5] = '\0';
    if (v[0] != '0' || v[1] != '0')
        why = "characters 1-2 are not \"00\"";
    else if (v[2] != '1' && v[2] != '2')
        why = "character 3 (subject type) is neither 1 nor 2";
    else if (strcmp(svc, "00000") != 0 && svc[0] != '1' && svc[0] != '2')
        why = "character 23 (service kind) is neither 1 nor 2";
    if (why != NULL) {
        if (buf != NULL && cap > 0)
            snprintf(buf, cap, "27 code characters, but %s", why);
        return MARK_PROVIDER_BAD_CODE;
    }
    ok_check = v[2] == '1' ? uscc_check_ok(id) : idcard_check_ok(id);
    if (buf != NULL && cap > 0) {
        char service[64];

        if (strcmp(svc, "00000") == 0)
            snprintf(service, sizeof service, "no service code");
        else
            snprintf(service, sizeof service, "%s service %s",
                     svc[0] == '1' ? "generation" : "propagation", svc + 1);
        snprintf(buf, cap,
                 "provider code: %s, binding method %c, %s %s (%s), %s",
                 v[2] == '1' ? "organisation" : "individual", v[3],
                 v[2] == '1' ? "unified social credit code" : "ID number",
                 id, ok_check ? "check character valid"
                              : "check character does not verify",
                 service);
    }
    return MARK_PROVIDER_CODE;
}

static int check_charset(mark_problems *p, const char *name, const char *v)
{
    size_t i;

    for (i = 0; v[i] != '\0'; i++) {
        unsigned char c = (unsigned char)v[i];

        if (mark__label_char_ok(c))
            continue;
        if (c == ' ')
            return mark__problem_add(p, MARK_SEV_ERROR, "charset", -1,
                                     "%s contains a space at position %zu",
                                     name, i + 1);
        if (c >= 0x80)
            return mark__problem_add(p, MARK_SEV_ERROR, "charset", -1,
                                     "%s contains a non-ASCII character at "
                                     "byte %zu (use a code, not a name in "
                                     "Chinese)", name, i + 1);
        return mark__problem_add(p, MARK_SEV_ERROR, "charset", -1,
                                 "%s contains the character 0x%02x at "
                                 "position %zu, outside printable ASCII "
                                 "without space, '\"' and '\\'",
                                 name, c, i + 1);
    }
    return MARK_OK;
}

static int check_provider(mark_problems *p, const char *name, const char *v)
{
    char why[256];
    int kind = mark_provider_explain(v, why, sizeof why);

    switch (kind) {
    case MARK_PROVIDER_CODE:
        return mark__problem_add(p, MARK_SEV_INFO, "provider-code", -1,
                                 "%s is a %s", name, why);
    case MARK_PROVIDER_BAD_CODE:
        return mark__problem_add(p, MARK_SEV_WARNING, "provider-code", -1,
                                 "%s looks like a provider code with %s",
                                 name, why + strlen("27 code characters, "
                                                    "but "));
    case MARK_PROVIDER_NAME:
        return mark__problem_add(p, MARK_SEV_INFO, "provider-name", -1,
                                 "%s '%s' is a name, not a registered "
                                 "27-character provider code", name, v);
    default:
        return MARK_OK;
    }
}

static int check_fields(const mark_label *l, mark_problems *p)
{
    static const int required[] = { MARK_FIELD_LABEL,
                                    MARK_FIELD_CONTENT_PRODUCER,
                                    MARK_FIELD_PRODUCE_ID };
    const char *lab = l->field[MARK_FIELD_LABEL];
    int rc = MARK_OK, f;
    size_t i;

    for (i = 0; i < 3 && rc == MARK_OK; i++) {
        f = required[i];
        if (l->field[f] == NULL)
            rc = mark__problem_add(p, MARK_SEV_ERROR, "missing-field", -1,
                                   "required field %s is missing",
                                   mark_field_name(f));
        else if (l->field[f][0] == '\0')
            rc = mark__problem_add(p, MARK_SEV_ERROR, "empty-field", -1,
                                   "required field %s is empty",
                                   mark_field_name(f));
    }
    for (f = 0; f < MARK_FIELD_COUNT_ && rc == MARK_OK; f++) {
        if (l->field[f] == NULL) {
            if (f != MARK_FIELD_LABEL && f != MARK_FIELD_CONTENT_PRODUCER &&
                f != MARK_FIELD_PRODUCE_ID)
                rc = mark__problem_add(p, MARK_SEV_WARNING, "missing-field",
                                       -1, "field %s is missing (Annex E "
                                       "lists all seven; optional ones may "
                                       "be empty)", mark_field_name(f));
            continue;
        }
        if (l->nonstring & (1u << f))
            rc = mark__problem_add(p, MARK_SEV_ERROR, "type", -1,
                                   "%s is %s, not a JSON string",
                                   mark_field_name(f), l->field[f]);
        if (rc == MARK_OK)
            rc = check_charset(p, mark_field_name(f), l->field[f]);
    }
    if (rc == MARK_OK && lab != NULL && lab[0] != '\0' &&
        !(strlen(lab) == 1 && lab[0] >= '1' && lab[0] <= '3'))
        rc = mark__problem_add(p, MARK_SEV_ERROR, "label-value", -1,
                               "Label is \"%s\", not \"1\" (generated), "
                               "\"2\" (possibly) or \"3\" (suspected)", lab);
    return rc;
}

static int check_propagation(const mark_label *l, mark_problems *p)
{
    const char *cp = l->field[MARK_FIELD_CONTENT_PRODUCER];
    const char *pid = l->field[MARK_FIELD_PRODUCE_ID];
    const char *pr = l->field[MARK_FIELD_CONTENT_PROPAGATOR];
    const char *prid = l->field[MARK_FIELD_PROPAGATE_ID];

    if (pr == NULL || prid == NULL)
        return MARK_OK;     /* already reported as missing */
    if (pr[0] == '\0' || prid[0] == '\0')
        return mark__problem_add(p, MARK_SEV_WARNING, "first-write", -1,
                                 "propagation fields are empty: on first "
                                 "write ContentPropagator and PropagateID "
                                 "equal ContentProducer and ProduceID");
    if (cp != NULL && pid != NULL &&
        (strcmp(cp, pr) != 0 || strcmp(pid, prid) != 0))
        return mark__problem_add(p, MARK_SEV_INFO, "propagated", -1,
                                 "propagation fields differ from the "
                                 "production fields: the content was "
                                 "propagated by '%s'", pr);
    return MARK_OK;
}

int mark_label_check(mark_ctx *ctx, const mark_label *l,
                     mark_problems **problems)
{
    mark_problems *p;
    size_t i;
    int rc;

    if (problems != NULL)
        *problems = NULL;
    if (ctx == NULL || l == NULL)
        return MARK_EINVAL;
    p = mark__problems_new(ctx);
    if (p == NULL)
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    rc = check_fields(l, p);
    for (i = 0; i < l->n_extra && rc == MARK_OK; i++)
        rc = mark__problem_add(p, MARK_SEV_WARNING, "unknown-key", -1,
                               "unknown key \"%s\" (not in Annex E)",
                               l->extra_key[i]);
    if (rc == MARK_OK && l->n_dup)
        rc = mark__problem_add(p, MARK_SEV_ERROR, "duplicate-key", -1,
                               "a key appears more than once in the JSON "
                               "object");
    if (rc == MARK_OK)
        rc = check_propagation(l, p);
    if (rc == MARK_OK && l->field[MARK_FIELD_CONTENT_PRODUCER] != NULL)
        rc = check_provider(p, "ContentProducer",
                            l->field[MARK_FIELD_CONTENT_PRODUCER]);
    if (rc == MARK_OK && l->field[MARK_FIELD_CONTENT_PROPAGATOR] != NULL &&
        (l->field[MARK_FIELD_CONTENT_PRODUCER] == NULL ||
         strcmp(l->field[MARK_FIELD_CONTENT_PRODUCER],
                l->field[MARK_FIELD_CONTENT_PROPAGATOR]) != 0))
        rc = check_provider(p, "ContentPropagator",
                            l->field[MARK_FIELD_CONTENT_PROPAGATOR]);
    if (rc < 0) {
        mark_problems_free(p);
        return mark__err(ctx, MARK_ENOMEM, "out of memory");
    }
    rc = mark_problems_max_severity(p) >= MARK_SEV_ERROR ? MARK_ELABEL
                                                          : MARK_OK;
    if (rc == MARK_ELABEL) {
        mark_problem first;
        size_t k;

        for (k = 0; k < mark_problems_count(p); k++) {
            mark_problems_get(p, k, &first);
            if (first.severity == MARK_SEV_ERROR)
                break;
        }
        mark__err(ctx, MARK_ELABEL, "invalid label: %s", first.message);
    }
    if (problems != NULL)
        *problems = p;
    else
        mark_problems_free(p);
    return rc;
}
