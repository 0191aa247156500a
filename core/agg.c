/*
 * agg.c - the aggregator; see agg.h.
 *
 * Layout: one trpt_agg holds the event-id high-water marks (global, one per
 * source) and a sorted vector of days. Each day owns an arena, a string
 * interner and two hash tables:
 *   entries: (policy domain, record text, policy type, policy strings,
 *            mx hosts) -> success/failure counts and a list of details
 *   fails:   (entry, result, six detail strings) -> count
 * All strings and tuples of a day live in its arena, so dropping a day frees
 * everything it used in one go and memory stays bounded over many days
 * (strings repeated on several days are interned once per day: a few KiB).
 *
 * Hot path (trpt_agg_add): the tuple is hashed straight from the record's
 * strings and compared against interned tuples; strings are interned and
 * memory allocated only when a tuple is new, never per event.
 *
 * Decisions:
 * - A tlsa policy hint moves a record to the receiving MX host's policy
 *   domain (RFC 8460 §3: the TLSA base domain is the MX host) and drops the
 *   TLSRPT record text (it belongs to the recipient domain, not the MX host;
 *   NULL lets the delivery stage look up the MX host's own record). When the
 *   MX host is unknown the session cannot be attributed to a TLSA base
 *   domain; it stays with the recipient domain as no-policy-found, so the
 *   session is still counted.
 * - exclude_domain applies to the recipient domain and to the resolved one.
 * - Duplicates are checked before exclusion; an excluded record advances its
 *   source's high-water mark like a counted one (it was seen).
 * - The image (save/load) is written in the same sorted order as reports,
 *   so save(load(save(x))) == save(x) byte for byte.
 */
#include "agg.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "record_view.h"
#include "timeutil.h"

#define N_DETAIL_FIELDS 6
#define MAX_DOMAIN_LEN  253

/* ---------------------------------------------------------------- hash */

#define HASH_SEED 0x243f6a8885a308d3ULL
#define HASH_MUL  0x9e3779b97f4a7c15ULL

static inline uint64_t hash_mix(uint64_t h, uint64_t w)
{
    h ^= w;
    h *= HASH_MUL;
    return h ^ (h >> 29);
}

static uint64_t hash_bytes(uint64_t h, const char *s, size_t n)
{
    uint64_t w;

    while (n >= 8) {
        memcpy(&w, s, 8);
        h = hash_mix(h, w);
        s += 8;
        n -= 8;
    }
    w = 0;
    memcpy(&w, s, n);
    return hash_mix(h, w ^ ((uint64_t)(n + 1) << 56));
}

/* Final avalanche so that the low bits used as a table index are good. */
static uint64_t hash_final(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

/* NULL sorts first (RFC 8460 output order is ours to choose; stable). */
static int str_cmp(const char *a, const char *b)
{
    if (a == b)
        return 0;
    if (!a)
        return -1;
    if (!b)
        return 1;
    return strcmp(a, b);
}

/* --------------------------------------------------------------- arena */

typedef struct arena_block {
    struct arena_block *next;
    size_t used;
    size_t cap;
    max_align_t data[];
} arena_block;

typedef struct arena {
    arena_block *head;
    size_t bytes; /* total allocated, for memory accounting */
} arena;

#define ARENA_BLOCK (64 * 1024)

#define ARENA_LINE 64 /* a cache line */

/* Where an object of n bytes goes at offset `used` of a block: aligned to
 * align (1 for strings, packed: fewer cache lines per lookup; else 8) and,
 * with align ARENA_LINE, not straddling a cache line if it fits in one
 * (the lookup of a tuple then costs one line; waste stays below a line). */
static size_t arena_place(const arena_block *b, size_t n, size_t align)
{
    uintptr_t base = (uintptr_t)b->data;
    uintptr_t at;

    if (align != ARENA_LINE) {
        at = (base + b->used + align - 1) & ~(uintptr_t)(align - 1);
    } else {
        at = (base + b->used + 7) & ~(uintptr_t)7;
        if (n <= ARENA_LINE && at / ARENA_LINE != (at + n - 1) / ARENA_LINE)
            at = (at + ARENA_LINE - 1) & ~(uintptr_t)(ARENA_LINE - 1);
    }
    return (size_t)(at - base);
}

static void *arena_alloc(arena *m, size_t n, size_t align)
{
    arena_block *b = m->head;
    size_t at = b ? arena_place(b, n, align) : 0;
    void *p;

    if (!b || at > b->cap || b->cap - at < n) {
        /* room for the alignment too */
        size_t cap =
            n + ARENA_LINE > ARENA_BLOCK ? n + ARENA_LINE : ARENA_BLOCK;

        b = malloc(sizeof(*b) + cap);
        if (!b)
            return NULL;
        b->next = m->head;
        b->used = 0;
        b->cap = cap;
        m->head = b;
        m->bytes += sizeof(*b) + cap;
        at = arena_place(b, n, align);
    }
    p = (char *)b->data + at;
    b->used = at + n;
    return p;
}

static void arena_free(arena *m)
{
    arena_block *b = m->head;

    while (b) {
        arena_block *next = b->next;

        free(b);
        b = next;
    }
    m->head = NULL;
    m->bytes = 0;
}

/* ---------------------------------------------------------- hash table */

/* Open addressing, linear probing, power-of-two capacity; an item pointer
 * of NULL marks an empty slot. Hash and item share a slot: one cache miss
 * per probe, which is what a lookup costs with 10 k domains. Items are never
 * removed (days are dropped as a whole). */
typedef struct hslot {
    uint64_t hash;
    void *item;
} hslot;

typedef struct htab {
    hslot *slots;
    size_t cap;
    size_t n;
} htab;

static void htab_free(htab *t)
{
    free(t->slots);
    memset(t, 0, sizeof(*t));
}

static void htab_place(hslot *slots, size_t cap, uint64_t h, void *item)
{
    size_t i = h & (cap - 1);

    while (slots[i].item)
        i = (i + 1) & (cap - 1);
    slots[i].hash = h;
    slots[i].item = item;
}

/* Keeps the load factor below 1/2. */
static int htab_grow_if_needed(htab *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    hslot *slots;

    if ((t->n + 1) * 2 <= t->cap)
        return 0;
    slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].item)
            htab_place(slots, cap, t->slots[i].hash, t->slots[i].item);
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

static int htab_insert(htab *t, uint64_t h, void *item)
{
    int r = htab_grow_if_needed(t);

    if (r < 0)
        return r;
    htab_place(t->slots, t->cap, h, item);
    t->n++;
    return 0;
}

/* Iterates the items whose slot hash equals h:
 *   for (void *it = htab_first(t, h, &i); it; it = htab_next(t, h, &i)) */
static void *htab_next(const htab *t, uint64_t h, size_t *i)
{
    while (t->slots[*i].item) {
        const hslot *slot = &t->slots[*i];

        *i = (*i + 1) & (t->cap - 1);
        if (slot->hash == h)
            return slot->item;
    }
    return NULL;
}

static void *htab_first(const htab *t, uint64_t h, size_t *i)
{
    if (!t->cap)
        return NULL;
    *i = h & (t->cap - 1);
    return htab_next(t, h, i);
}

/* ------------------------------------------------------------- tuples */

typedef struct agg_fail agg_fail;

/* What a report needs of an entry; looked at only when an entry is created
 * and when reports or images are written. */
typedef struct entry_info {
    const char *domain; /* interned */
    const char *record; /* NULL: no TLSRPT record seen */
    trpt_policy_type type;
    const char **strings;
    size_t n_strings;
    const char **mx;
    size_t n_mx;
    agg_fail *fails; /* singly linked, unordered */
    size_t n_fails;
} entry_info;

/* The counts and the serialized key together: a lookup and a count touch
 * one cache line for a typical tuple (entries are 64-byte aligned). */
typedef struct agg_entry {
    uint64_t success;
    uint64_t failure;
    entry_info *info;
    uint32_t key_len;
    char key[]; /* entry_key_put() */
} agg_entry;

struct agg_fail {
    uint64_t count;
    agg_fail *next;
    const agg_entry *entry;
    trpt_result result;
    const char *f[N_DETAIL_FIELDS]; /* order as in trpt_agg_detail */
    uint32_t key_len;
    char key[]; /* fail_key_put() */
};

/* A tuple as seen from a record, before interning. */
typedef struct entry_key {
    trpt_sv domain;
    trpt_sv record; /* p NULL: none */
    trpt_policy_type type;
    const trpt_sv *strings;
    size_t n_strings;
    const trpt_sv *mx;
    size_t n_mx;
} entry_key;

typedef struct agg_day {
    int64_t day;
    arena mem;
    htab strings;
    htab entries;
    htab fails;
} agg_day;

typedef struct agg_source {
    uint64_t offset;
    unsigned sub;
    bool marked; /* false until a record of this source was accepted */
    size_t len;
    char name[];
} agg_source;

/* A growable array of string views (policy hints, loaded images). */
typedef struct sv_vec {
    trpt_sv *v;
    size_t cap;
} sv_vec;

struct trpt_agg {
    const trpt_config *cfg;
    agg_day **days; /* sorted by day */
    size_t n_days;
    size_t cap_days;
    agg_day *last; /* cache: consecutive records share a day */
    htab sources;
    agg_source *last_source; /* cache: consecutive records share a source */
    trpt_agg_stats stats;
    trpt_record_view view;            /* the decoded record (trpt_agg_decode) */
    trpt_record_view *batch;          /* TRPT_AGG_BATCH views (decode_batch) */
    bool batch_ready[TRPT_AGG_BATCH]; /* decoded, not yet folded */
    bool batch_has_hash[TRPT_AGG_BATCH];
    uint64_t batch_hash[TRPT_AGG_BATCH];
    bool have_hash; /* entry_get(): key_hash of its key known... */
    uint64_t hash;  /* ...and here (add_json_batch computed it) */
    bool decoded;   /* view holds a record not yet folded */
    char *key;      /* the tuple being looked up, serialized */
    size_t key_cap;
    sv_vec hint_strings, hint_mx;
    trpt_agg_resolve_fn resolve; /* trpt_agg_set_resolver() */
    void *resolve_ctx;
    char resolve_mx[MAX_DOMAIN_LEN + 1]; /* valid until the next call */
    char moved_domain[MAX_DOMAIN_LEN + 1];
    char domain_cstr[MAX_DOMAIN_LEN + 1]; /* for the config lookups */
};

static int sv_vec_from(sv_vec *s, const char *const *v, size_t n)
{
    if (n > s->cap) {
        trpt_sv *p = realloc(s->v, n * sizeof(*p));

        if (!p)
            return -ENOMEM;
        s->v = p;
        s->cap = n;
    }
    for (size_t i = 0; i < n; i++)
        s->v[i] = (trpt_sv){v[i], strlen(v[i])};
    return 0;
}

static bool sv_eq_str(trpt_sv a, const char *s)
{
    return strncmp(s, a.p, a.len) == 0 && s[a.len] == '\0';
}

/* --------------------------------------------------------- serialized keys */

/*
 * A tuple is looked up by its bytes: a fixed header, then each string
 * followed by a NUL (strings never hold one: record.h), so two tuples are
 * equal exactly when their serializations are. Hashing and comparing one
 * contiguous run is cheaper than walking fields, and a stored key sits
 * next to its counts.
 *   entry: u32 type | has-record << 8, u32 n strings, u32 n mx, then
 *          domain, [record], strings..., mx...
 *   fail:  entry address, u32 result, u32 bit set of present fields, then
 *          the present fields
 */
#define ENTRY_KEY_HEAD 12
#define FAIL_KEY_HEAD  (sizeof(void *) + 8)

static int key_room(trpt_agg *a, size_t need)
{
    char *p;

    if (need <= a->key_cap)
        return 0;
    if (need > UINT32_MAX)
        return -E2BIG;
    p = realloc(a->key, need);
    if (!p)
        return -ENOMEM;
    a->key = p;
    a->key_cap = need;
    return 0;
}

static char *put_bytes(char *o, const void *p, size_t n)
{
    memcpy(o, p, n);
    return o + n;
}

static char *put_sv(char *o, trpt_sv s)
{
    o = put_bytes(o, s.p, s.len);
    *o = '\0';
    return o + 1;
}

static size_t svs_len(const trpt_sv *v, size_t n)
{
    size_t len = 0;

    for (size_t i = 0; i < n; i++)
        len += v[i].len + 1;
    return len;
}

/* Serializes k into a->key; its length, or a negative errno. */
static long entry_key_put(trpt_agg *a, const entry_key *k)
{
    uint32_t head[3] = {(uint32_t)k->type | (k->record.p ? 1u << 8 : 0),
                        (uint32_t)k->n_strings, (uint32_t)k->n_mx};
    size_t len = ENTRY_KEY_HEAD + k->domain.len + 1 +
                 (k->record.p ? k->record.len + 1 : 0) +
                 svs_len(k->strings, k->n_strings) + svs_len(k->mx, k->n_mx);
    char *o;
    int rc;

    if ((rc = key_room(a, len)) < 0)
        return rc;
    o = put_bytes(a->key, head, sizeof(head));
    o = put_sv(o, k->domain);
    if (k->record.p)
        o = put_sv(o, k->record);
    for (size_t i = 0; i < k->n_strings; i++)
        o = put_sv(o, k->strings[i]);
    for (size_t i = 0; i < k->n_mx; i++)
        o = put_sv(o, k->mx[i]);
    return (long)(o - a->key);
}

static long fail_key_put(trpt_agg *a, const agg_entry *e, trpt_result result,
                         const trpt_sv *f)
{
    uint32_t head[2] = {(uint32_t)result, 0};
    size_t len = FAIL_KEY_HEAD;
    char *o;
    int rc;

    for (int i = 0; i < N_DETAIL_FIELDS; i++)
        if (f[i].p) {
            head[1] |= 1u << i;
            len += f[i].len + 1;
        }
    if ((rc = key_room(a, len)) < 0)
        return rc;
    o = put_bytes(a->key, &e, sizeof(e));
    o = put_bytes(o, head, sizeof(head));
    for (int i = 0; i < N_DETAIL_FIELDS; i++)
        if (f[i].p)
            o = put_sv(o, f[i]);
    return (long)(o - a->key);
}

static uint64_t key_hash(const char *key, size_t len)
{
    return hash_final(hash_bytes(HASH_SEED, key, len));
}

/* ------------------------------------------------------------ interner */

static const char *intern(agg_day *d, trpt_sv s)
{
    htab *t = &d->strings;
    uint64_t h;
    char *copy;
    size_t i;

    if (!s.p)
        return NULL;
    h = key_hash(s.p, s.len);
    for (const char *it = htab_first(t, h, &i); it; it = htab_next(t, h, &i))
        if (sv_eq_str(s, it))
            return it;
    copy = arena_alloc(&d->mem, s.len + 1, 1);
    if (!copy)
        return NULL;
    memcpy(copy, s.p, s.len);
    copy[s.len] = '\0';
    if (htab_insert(t, h, copy) < 0)
        return NULL;
    return copy;
}

static int intern_vec(agg_day *d, const trpt_sv *v, size_t n, const char ***out)
{
    const char **iv;

    *out = NULL;
    if (!n)
        return 0;
    iv = arena_alloc(&d->mem, n * sizeof(*iv), sizeof(void *));
    if (!iv)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!(iv[i] = intern(d, v[i])))
            return -ENOMEM;
    *out = iv;
    return 0;
}

/* --------------------------------------------------------------- days */

static agg_day *day_new(int64_t day)
{
    agg_day *d = calloc(1, sizeof(*d));

    if (d)
        d->day = day;
    return d;
}

static void day_free(agg_day *d)
{
    if (!d)
        return;
    arena_free(&d->mem);
    htab_free(&d->strings);
    htab_free(&d->entries);
    htab_free(&d->fails);
    free(d);
}

/* Binary search; *pos is the insertion point when not found. */
static agg_day *day_find(const trpt_agg *a, int64_t day, size_t *pos)
{
    size_t lo = 0, hi = a->n_days;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (a->days[mid]->day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (pos)
        *pos = lo;
    return lo < a->n_days && a->days[lo]->day == day ? a->days[lo] : NULL;
}

static agg_day *day_get(trpt_agg *a, int64_t day)
{
    agg_day *d;
    size_t pos;

    if (a->last && a->last->day == day)
        return a->last;
    d = day_find(a, day, &pos);
    if (!d) {
        if (a->n_days == a->cap_days) {
            size_t cap = a->cap_days ? a->cap_days * 2 : 8;
            agg_day **v = realloc(a->days, cap * sizeof(*v));

            if (!v)
                return NULL;
            a->days = v;
            a->cap_days = cap;
        }
        if (!(d = day_new(day)))
            return NULL;
        memmove(a->days + pos + 1, a->days + pos,
                (a->n_days - pos) * sizeof(*a->days));
        a->days[pos] = d;
        a->n_days++;
    }
    a->last = d;
    return d;
}

/* ------------------------------------------------------------ entries */

/* Cold path: a tuple seen for the first time this day. */
static agg_entry *entry_create(agg_day *d, const entry_key *k, const char *key,
                               size_t len, uint64_t h)
{
    agg_entry *e = arena_alloc(&d->mem, sizeof(*e) + len, ARENA_LINE);
    entry_info *in = arena_alloc(&d->mem, sizeof(*in), sizeof(void *));

    if (!e || !in)
        return NULL;
    memset(e, 0, sizeof(*e));
    memset(in, 0, sizeof(*in));
    e->info = in;
    e->key_len = (uint32_t)len;
    memcpy(e->key, key, len);
    in->type = k->type;
    if (!(in->domain = intern(d, k->domain)))
        return NULL;
    if (k->record.p && !(in->record = intern(d, k->record)))
        return NULL;
    if (intern_vec(d, k->strings, k->n_strings, &in->strings) < 0 ||
        intern_vec(d, k->mx, k->n_mx, &in->mx) < 0)
        return NULL;
    in->n_strings = k->n_strings;
    in->n_mx = k->n_mx;
    if (htab_insert(&d->entries, h, e) < 0)
        return NULL;
    return e;
}

static agg_entry *entry_get(trpt_agg *a, agg_day *d, const entry_key *k)
{
    long len = entry_key_put(a, k);
    htab *t = &d->entries;
    uint64_t h;
    size_t i;

    if (len < 0)
        return NULL;
    h = a->have_hash ? a->hash : key_hash(a->key, (size_t)len);
    a->have_hash = false;
    for (agg_entry *e = htab_first(t, h, &i); e; e = htab_next(t, h, &i))
        if (e->key_len == (size_t)len && memcmp(e->key, a->key, len) == 0)
            return e;
    return entry_create(d, k, a->key, (size_t)len, h);
}

/* ------------------------------------------------------------ details */

static agg_fail *fail_create(agg_day *d, agg_entry *e, trpt_result result,
                             const trpt_sv *f, const char *key, size_t len,
                             uint64_t h)
{
    agg_fail *x = arena_alloc(&d->mem, sizeof(*x) + len, ARENA_LINE);

    if (!x)
        return NULL;
    memset(x, 0, sizeof(*x));
    x->entry = e;
    x->result = result;
    x->key_len = (uint32_t)len;
    memcpy(x->key, key, len);
    for (int i = 0; i < N_DETAIL_FIELDS; i++)
        if (f[i].p && !(x->f[i] = intern(d, f[i])))
            return NULL;
    if (htab_insert(&d->fails, h, x) < 0)
        return NULL;
    x->next = e->info->fails;
    e->info->fails = x;
    e->info->n_fails++;
    return x;
}

static agg_fail *fail_get(trpt_agg *a, agg_day *d, agg_entry *e,
                          trpt_result result, const trpt_sv *f)
{
    long len = fail_key_put(a, e, result, f);
    htab *t = &d->fails;
    uint64_t h;
    size_t i;

    if (len < 0)
        return NULL;
    h = key_hash(a->key, (size_t)len);
    for (agg_fail *x = htab_first(t, h, &i); x; x = htab_next(t, h, &i))
        if (x->key_len == (size_t)len && memcmp(x->key, a->key, len) == 0)
            return x;
    return fail_create(d, e, result, f, a->key, (size_t)len, h);
}

/* ------------------------------------------------- event id high marks */

static agg_source *source_get(trpt_agg *a, const char *name, size_t len)
{
    uint64_t h;
    htab *t = &a->sources;
    agg_source *s = a->last_source;
    size_t i;

    if (s && s->len == len && memcmp(s->name, name, len) == 0)
        return s;
    h = key_hash(name, len);
    for (s = htab_first(t, h, &i); s; s = htab_next(t, h, &i))
        if (s->len == len && memcmp(s->name, name, len) == 0)
            return a->last_source = s;
    s = calloc(1, sizeof(*s) + len + 1);
    if (!s)
        return NULL;
    memcpy(s->name, name, len);
    s->len = len;
    if (htab_insert(t, h, s) < 0) {
        free(s);
        return NULL;
    }
    return a->last_source = s;
}

static bool source_seen(const agg_source *s, uint64_t offset, unsigned sub)
{
    return s->marked &&
           (offset < s->offset || (offset == s->offset && sub <= s->sub));
}

static void source_advance(agg_source *s, uint64_t offset, unsigned sub)
{
    if (!source_seen(s, offset, sub)) {
        s->offset = offset;
        s->sub = sub;
        s->marked = true;
    }
}

static void sources_free(trpt_agg *a)
{
    htab *t = &a->sources;

    for (size_t i = 0; i < t->cap; i++)
        free(t->slots[i].item);
    htab_free(t);
    a->last_source = NULL;
}

/* --------------------------------------------------- policy resolution */

/* Lower-case, no trailing dot: the MX host as a policy domain. Empty if
 * it cannot be one (too long or empty). */
static trpt_sv mx_as_domain(trpt_agg *a, trpt_sv mx)
{
    size_t len = mx.len;

    if (len && mx.p[len - 1] == '.')
        len--;
    if (!len || len > MAX_DOMAIN_LEN)
        return (trpt_sv){NULL, 0};
    for (size_t i = 0; i < len; i++) {
        char c = mx.p[i];

        a->moved_domain[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    a->moved_domain[len] = '\0';
    return (trpt_sv){a->moved_domain, len};
}

/* The config looks domains up as C strings; a domain is valid, so short. */
static const char *domain_cstr(trpt_agg *a, trpt_sv d)
{
    size_t len = d.len < MAX_DOMAIN_LEN ? d.len : MAX_DOMAIN_LEN;

    memcpy(a->domain_cstr, d.p, len);
    a->domain_cstr[len] = '\0';
    return a->domain_cstr;
}

static void key_from_view(entry_key *k, const trpt_record_view *v)
{
    k->domain = v->policy_domain;
    k->record = v->tlsrpt_record;
    k->type = v->policy_type;
    k->strings = v->policy_strings;
    k->n_strings = v->n_policy_strings;
    k->mx = v->mx_hosts;
    k->n_mx = v->n_mx_hosts;
}

static const trpt_policy_hint *hint_for(trpt_agg *a, trpt_sv domain)
{
    const trpt_policy_hint *hint;

    if (!a->cfg->n_hints)
        return NULL;
    hint = trpt_config_hint(a->cfg, domain_cstr(a, domain));
    if (!hint || hint->type == TRPT_POLICY_UNKNOWN ||
        (unsigned)hint->type >= TRPT_POLICY_COUNT)
        return NULL;
    return hint;
}

static int policy_from_hint(trpt_agg *a, const trpt_policy_hint *hint,
                            entry_key *k)
{
    int rc;

    if ((rc = sv_vec_from(&a->hint_strings,
                          (const char *const *)hint->policy_strings.v,
                          hint->policy_strings.n)) < 0 ||
        (rc = sv_vec_from(&a->hint_mx, (const char *const *)hint->mx_hosts.v,
                          hint->mx_hosts.n)) < 0)
        return rc;
    k->type = hint->type;
    k->strings = a->hint_strings.v;
    k->n_strings = hint->policy_strings.n;
    k->mx = a->hint_mx.v;
    k->n_mx = hint->mx_hosts.n;
    return 0;
}

/* No hint: what DNS says (trpt_agg_set_resolver). */
static int policy_from_resolver(trpt_agg *a, const trpt_record_view *v,
                                entry_key *k)
{
    trpt_agg_resolved p = {0};
    trpt_sv m = v->receiving_mx_hostname.p
                    ? mx_as_domain(a, v->receiving_mx_hostname)
                    : (trpt_sv){NULL, 0};
    int rc;

    /* The resolver may hand the MX host back as the policy domain: it
     * must outlive this call, so it lives in the aggregator. */
    if (m.p)
        memcpy(a->resolve_mx, m.p, m.len + 1);
    if (a->resolve(a->resolve_ctx, domain_cstr(a, v->policy_domain),
                   m.p ? a->resolve_mx : NULL, trpt_day_of_us(v->time_us),
                   &p) < 0 ||
        p.type == TRPT_POLICY_UNKNOWN || (unsigned)p.type >= TRPT_POLICY_COUNT)
        return 0; /* stays no-policy-found */
    if ((rc = sv_vec_from(&a->hint_strings, p.strings, p.n_strings)) < 0 ||
        (rc = sv_vec_from(&a->hint_mx, p.mx, p.n_mx)) < 0)
        return rc;
    k->type = p.type;
    k->strings = a->hint_strings.v;
    k->n_strings = p.n_strings;
    k->mx = a->hint_mx.v;
    k->n_mx = p.n_mx;
    if (p.type == TRPT_POLICY_TLSA && p.policy_domain &&
        strlen(p.policy_domain) <= MAX_DOMAIN_LEN) {
        k->domain = (trpt_sv){p.policy_domain, strlen(p.policy_domain)};
        k->record = (trpt_sv){NULL, 0};
    }
    return 0;
}

/* RFC 8460 §4.4 policy-type: the logs may not say; the config may. A log
 * line can prove the type without its strings (Postfix's "external policy
 * failure (sts-...)"): a hint of the same type supplies them, so that the
 * domain's sessions fall under one policy instead of two. */
static int resolve_policy(trpt_agg *a, const trpt_record_view *v, entry_key *k)
{
    const trpt_policy_hint *hint;

    key_from_view(k, v);
    if (v->policy_type != TRPT_POLICY_UNKNOWN) {
        if (v->n_policy_strings || v->n_mx_hosts)
            return 0;
        hint = hint_for(a, v->policy_domain);
        if (!hint || hint->type != v->policy_type)
            return 0;
        return policy_from_hint(a, hint, k);
    }
    k->type = TRPT_POLICY_NONE;
    k->n_strings = k->n_mx = 0;
    hint = hint_for(a, v->policy_domain);
    if (!hint)
        return a->resolve ? policy_from_resolver(a, v, k) : 0;
    if (hint->type == TRPT_POLICY_TLSA) {
        /* RFC 8460 §3: the TLSA base domain is the MX host. */
        trpt_sv moved = v->receiving_mx_hostname.p
                            ? mx_as_domain(a, v->receiving_mx_hostname)
                            : (trpt_sv){NULL, 0};

        if (!moved.p)
            return 0; /* cannot attribute: stays no-policy-found */
        k->domain = moved;
        k->record = (trpt_sv){NULL, 0};
    }
    return policy_from_hint(a, hint, k);
}

static bool is_excluded(trpt_agg *a, const trpt_record_view *v,
                        const entry_key *k)
{
    if (!a->cfg->exclude_domains.n)
        return false;
    if (trpt_config_excluded_domain(a->cfg, domain_cstr(a, v->policy_domain)) >
        0)
        return true;
    return k->domain.p != v->policy_domain.p &&
           trpt_config_excluded_domain(a->cfg, domain_cstr(a, k->domain)) > 0;
}

/* ----------------------------------------------------------------- add */

void trpt_agg_set_resolver(trpt_agg *a, trpt_agg_resolve_fn fn, void *ctx)
{
    if (!a)
        return;
    a->resolve = fn;
    a->resolve_ctx = ctx;
}

int trpt_agg_new(trpt_agg **out, const trpt_config *cfg)
{
    trpt_agg *a;

    if (!out || !cfg)
        return -EINVAL;
    a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    a->cfg = cfg;
    trpt_record_view_init(&a->view);
    *out = a;
    return 0;
}

static int count_record(trpt_agg *a, const trpt_record_view *v,
                        const entry_key *k)
{
    const trpt_sv f[N_DETAIL_FIELDS] = {
        v->sending_mta_ip, v->receiving_mx_hostname, v->receiving_mx_helo,
        v->receiving_ip,   v->failure_reason_code,   v->additional_information,
    };
    agg_day *d = day_get(a, trpt_day_of_us(v->time_us));
    agg_entry *e;
    agg_fail *x;

    if (!d || !(e = entry_get(a, d, k)))
        return -ENOMEM;
    if (v->result == TRPT_RESULT_SUCCESS) {
        e->success++;
        return 0;
    }
    if (!(x = fail_get(a, d, e, v->result, f)))
        return -ENOMEM;
    e->failure++;
    x->count++;
    return 0;
}

/* Folds a valid record: 0 counted, 1 duplicate or excluded. */
static int add_view(trpt_agg *a, const trpt_record_view *v)
{
    agg_source *src = source_get(a, v->event_id.p, v->id_source_len);
    entry_key k;
    int rc;

    if (!src)
        return -ENOMEM;
    if (source_seen(src, v->id_offset, v->id_sub)) {
        a->stats.duplicates++;
        return 1;
    }
    if ((rc = resolve_policy(a, v, &k)) < 0)
        return rc;
    if (is_excluded(a, v, &k)) {
        a->stats.excluded++;
        rc = 1;
    } else if ((rc = count_record(a, v, &k)) < 0) {
        return rc;
    } else {
        a->stats.records++;
    }
    source_advance(src, v->id_offset, v->id_sub);
    return rc;
}

int trpt_agg_add(trpt_agg *a, const trpt_record *r)
{
    int rc;

    if (!a || !r)
        return -EINVAL;
    a->decoded = false;
    rc = trpt_record_validate(r);
    if (rc == 0)
        rc = trpt_record_view_from_record(&a->view, r);
    if (rc < 0) {
        a->stats.invalid++;
        return rc;
    }
    return add_view(a, &a->view);
}

int trpt_agg_decode(trpt_agg *a, const char *json, size_t len, int64_t *day)
{
    int rc;

    if (!a || !json)
        return -EINVAL;
    a->decoded = false;
    rc = trpt_record_view_from_json(&a->view, json, len);
    if (rc < 0) {
        if (rc != -ENOMEM)
            a->stats.invalid++;
        return rc;
    }
    a->decoded = true;
    if (day)
        *day = trpt_day_of_us(a->view.time_us);
    return 0;
}

int trpt_agg_add_decoded(trpt_agg *a)
{
    if (!a || !a->decoded)
        return -EINVAL;
    a->decoded = false;
    return add_view(a, &a->view);
}

/* The spool path: decoded in place, no copy of the record is made. */
int trpt_agg_add_json(trpt_agg *a, const char *json, size_t len)
{
    int rc = trpt_agg_decode(a, json, len, NULL);

    return rc < 0 ? rc : trpt_agg_add_decoded(a);
}

/* ---------------------------------------------------------- batches */

/* The hash of v's tuple key, and its hash-table slot if its day exists
 * yet: where entry_get() will look. The key is resolved and serialized
 * again then (the policy resolution is a pure function of the record and
 * the config, so the hash stays right); that costs less than the cache
 * miss this lets overlap with the other records' work. */
static const hslot *entry_slot_of(trpt_agg *a, const trpt_record_view *v,
                                  uint64_t *h)
{
    agg_day *d = day_find(a, trpt_day_of_us(v->time_us), NULL);
    entry_key k;
    long len;

    /* A resolver's answer may change between two calls (a cache entry
     * expires): no precomputed hash then. */
    if (a->resolve)
        return NULL;
    if (!d || !d->entries.cap || resolve_policy(a, v, &k) < 0 ||
        (len = entry_key_put(a, &k)) < 0)
        return NULL;
    *h = key_hash(a->key, (size_t)len);
    return &d->entries.slots[*h & (d->entries.cap - 1)];
}

static int batch_views(trpt_agg *a)
{
    if (a->batch)
        return 0;
    a->batch = malloc(TRPT_AGG_BATCH * sizeof(*a->batch));
    if (!a->batch)
        return -ENOMEM;
    for (size_t i = 0; i < TRPT_AGG_BATCH; i++)
        trpt_record_view_init(&a->batch[i]);
    return 0;
}

/* Decodes every record first, then prefetches their tuples' slots, then
 * the entries those slots point to: by the time trpt_agg_add_batched()
 * folds them, in the caller's order, the lookups' cache misses have
 * overlapped. The folding is exactly add_view(), so duplicates and counts
 * come out as from trpt_agg_decode() + trpt_agg_add_decoded() one by one. */
int trpt_agg_decode_batch(trpt_agg *a, const char *const *json,
                          const size_t *len, size_t n, int64_t *day, int *rc)
{
    const hslot *slot[TRPT_AGG_BATCH];
    trpt_record_view *v;
    int r;

    if (!a || n > TRPT_AGG_BATCH || (n && (!json || !len || !rc)))
        return -EINVAL;
    if ((r = batch_views(a)) < 0)
        return r;
    v = a->batch;
    a->decoded = false;
    memset(a->batch_ready, 0, sizeof(a->batch_ready));
    for (size_t i = 0; i < n; i++) {
        slot[i] = NULL;
        /* as trpt_agg_decode(): NULL refused, not counted as invalid */
        rc[i] = json[i] ? trpt_record_view_from_json(&v[i], json[i], len[i])
                        : -EINVAL;
        if (rc[i] < 0) {
            if (json[i] && rc[i] != -ENOMEM)
                a->stats.invalid++;
            continue;
        }
        a->batch_ready[i] = true;
        if (day)
            day[i] = trpt_day_of_us(v[i].time_us);
        slot[i] = entry_slot_of(a, &v[i], &a->batch_hash[i]);
        a->batch_has_hash[i] = slot[i] != NULL;
        if (slot[i])
            __builtin_prefetch(slot[i]);
    }
    for (size_t i = 0; i < n; i++)
        if (slot[i] && slot[i]->item)
            __builtin_prefetch(slot[i]->item);
    return 0;
}

int trpt_agg_add_batched(trpt_agg *a, size_t i)
{
    int rc;

    if (!a || i >= TRPT_AGG_BATCH || !a->batch_ready[i])
        return -EINVAL;
    a->batch_ready[i] = false;
    a->have_hash = a->batch_has_hash[i];
    a->hash = a->batch_hash[i];
    rc = add_view(a, &a->batch[i]);
    a->have_hash = false; /* a duplicate or exclusion did not use it */
    return rc;
}

int trpt_agg_add_json_batch(trpt_agg *a, const char *const *json,
                            const size_t *len, size_t n, int *rc)
{
    int r;

    if (!a || (n && (!json || !len || !rc)))
        return -EINVAL;
    for (size_t at = 0; at < n; at += TRPT_AGG_BATCH) {
        size_t m = n - at < TRPT_AGG_BATCH ? n - at : TRPT_AGG_BATCH;

        if ((r = trpt_agg_decode_batch(a, json + at, len + at, m, NULL,
                                       rc + at)) < 0)
            return r;
        for (size_t i = at; i < at + m; i++) {
            if (rc[i] == -ENOMEM)
                return -ENOMEM;
            if (rc[i] == 0 &&
                (rc[i] = trpt_agg_add_batched(a, i - at)) == -ENOMEM)
                return -ENOMEM;
        }
    }
    return 0;
}

const trpt_agg_stats *trpt_agg_stats_get(const trpt_agg *a)
{
    return &a->stats;
}

/* --------------------------------------------------------------- days */

int trpt_agg_days(const trpt_agg *a, int64_t **days, size_t *n)
{
    int64_t *v;
    size_t k = 0;

    if (!a || !days || !n)
        return -EINVAL;
    *days = NULL;
    *n = 0;
    if (!a->n_days)
        return 0;
    v = malloc(a->n_days * sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < a->n_days; i++)
        if (a->days[i]->entries.n)
            v[k++] = a->days[i]->day;
    *days = v;
    *n = k;
    return 0;
}

int trpt_agg_drop_day(trpt_agg *a, int64_t day)
{
    size_t pos;
    agg_day *d;

    if (!a)
        return -EINVAL;
    d = day_find(a, day, &pos);
    if (!d)
        return -ENOENT;
    if (a->last == d)
        a->last = NULL;
    memmove(a->days + pos, a->days + pos + 1,
            (a->n_days - pos - 1) * sizeof(*a->days));
    a->n_days--;
    day_free(d);
    return 0;
}

/* ------------------------------------------------------- stable order */

static int vec_cmp(const char *const *a, size_t na, const char *const *b,
                   size_t nb)
{
    for (size_t i = 0; i < na && i < nb; i++) {
        int c = strcmp(a[i], b[i]);

        if (c)
            return c;
    }
    return na < nb ? -1 : na > nb;
}

/* Group (policy domain, record text NULL first), then policy type by its
 * RFC name, policy strings, mx hosts. */
static int entry_cmp(const void *pa, const void *pb)
{
    const entry_info *a = (*(const agg_entry *const *)pa)->info;
    const entry_info *b = (*(const agg_entry *const *)pb)->info;
    int c;

    if ((c = strcmp(a->domain, b->domain)) ||
        (c = str_cmp(a->record, b->record)))
        return c;
    if (a->type != b->type && (c = strcmp(trpt_policy_type_name(a->type),
                                          trpt_policy_type_name(b->type))))
        return c;
    if ((c = vec_cmp(a->strings, a->n_strings, b->strings, b->n_strings)))
        return c;
    return vec_cmp(a->mx, a->n_mx, b->mx, b->n_mx);
}

/* Count descending, then result name, then fields (NULL first). */
static int fail_cmp(const void *pa, const void *pb)
{
    const agg_fail *a = *(const agg_fail *const *)pa;
    const agg_fail *b = *(const agg_fail *const *)pb;
    int c;

    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    if (a->result != b->result &&
        (c = strcmp(trpt_result_name(a->result), trpt_result_name(b->result))))
        return c;
    for (int i = 0; i < N_DETAIL_FIELDS; i++)
        if ((c = str_cmp(a->f[i], b->f[i])))
            return c;
    return 0;
}

static int sorted_entries(const agg_day *d, agg_entry ***out)
{
    agg_entry **v;
    size_t k = 0;

    *out = NULL;
    if (!d->entries.n)
        return 0;
    v = malloc(d->entries.n * sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < d->entries.cap; i++)
        if (d->entries.slots[i].item)
            v[k++] = d->entries.slots[i].item;
    qsort(v, k, sizeof(*v), entry_cmp);
    *out = v;
    return 0;
}

/* Fills v (room for e->info->n_fails) with e's details in report order. */
static void sorted_fails(const agg_entry *e, agg_fail **v)
{
    size_t k = 0;

    for (agg_fail *x = e->info->fails; x; x = x->next)
        v[k++] = x;
    qsort(v, k, sizeof(*v), fail_cmp);
}

/* ------------------------------------------------------------- foreach */

typedef struct group_scratch {
    trpt_agg_policy *policies;
    trpt_agg_detail *details;
    agg_fail **fails;
} group_scratch;

static void fill_detail(trpt_agg_detail *out, const agg_fail *x)
{
    out->result = x->result;
    out->sending_mta_ip = x->f[0];
    out->receiving_mx_hostname = x->f[1];
    out->receiving_mx_helo = x->f[2];
    out->receiving_ip = x->f[3];
    out->failure_reason_code = x->f[4];
    out->additional_information = x->f[5];
    out->count = x->count;
}

static void fill_policy(trpt_agg_policy *p, const agg_entry *e,
                        trpt_agg_detail *details, agg_fail **fails)
{
    sorted_fails(e, fails);
    for (size_t i = 0; i < e->info->n_fails; i++)
        fill_detail(&details[i], fails[i]);
    p->type = e->info->type;
    p->policy_strings = e->info->strings;
    p->n_policy_strings = e->info->n_strings;
    p->mx_hosts = e->info->mx;
    p->n_mx_hosts = e->info->n_mx;
    p->success = e->success;
    p->failure = e->failure;
    p->details = details;
    p->n_details = e->info->n_fails;
}

/* Entries [0, n) form one group (same domain and record). */
static int emit_group(int64_t day, agg_entry **v, size_t n, group_scratch *s,
                      trpt_agg_group_fn fn, void *ctx)
{
    trpt_agg_group g = {
        .day = day,
        .policy_domain = v[0]->info->domain,
        .tlsrpt_record = v[0]->info->record,
        .policies = s->policies,
        .n_policies = n,
    };
    size_t used = 0;

    for (size_t i = 0; i < n; i++) {
        fill_policy(&s->policies[i], v[i], s->details + used, s->fails);
        used += v[i]->info->n_fails;
    }
    return fn(ctx, &g);
}

static size_t max_fails(agg_entry **v, size_t n)
{
    size_t m = 0;

    for (size_t i = 0; i < n; i++)
        if (v[i]->info->n_fails > m)
            m = v[i]->info->n_fails;
    return m;
}

int trpt_agg_foreach_group(trpt_agg *a, int64_t day, trpt_agg_group_fn fn,
                           void *ctx)
{
    group_scratch s = {0};
    agg_entry **v = NULL;
    size_t n, total_fails = 0;
    agg_day *d;
    int rc;

    if (!a || !fn)
        return -EINVAL;
    d = day_find(a, day, NULL);
    if (!d)
        return 0;
    if ((rc = sorted_entries(d, &v)) < 0)
        return rc;
    n = d->entries.n;
    for (size_t i = 0; i < n; i++)
        total_fails += v[i]->info->n_fails;
    s.policies = calloc(n ? n : 1, sizeof(*s.policies));
    s.details = calloc(total_fails ? total_fails : 1, sizeof(*s.details));
    s.fails = calloc(n ? max_fails(v, n) + 1 : 1, sizeof(*s.fails));
    rc = (!s.policies || !s.details || !s.fails) ? -ENOMEM : 0;
    for (size_t i = 0, j; rc == 0 && i < n; i = j) {
        for (j = i + 1; j < n && v[j]->info->domain == v[i]->info->domain &&
                        v[j]->info->record == v[i]->info->record;
             j++)
            ; /* interned within a day: pointer equality is string equality */
        rc = emit_group(day, v + i, j - i, &s, fn, ctx);
    }
    free(s.policies);
    free(s.details);
    free(s.fails);
    free(v);
    return rc;
}

/* ------------------------------------------------------ image: format */

/*
 * Image layout (all integers little-endian):
 *   "TRPTAGG\n" u32 version u32 crc32(payload) u64 payload length, payload
 * payload:
 *   stats: 4 x u64 (records, duplicates, excluded, invalid)
 *   u32 n_sources, each: str name, u8 marked, u64 offset, u32 sub
 *   u32 n_days, each: i64 day, u32 n_entries, each:
 *     str domain, ostr record, u8 type, u32 n + str policy strings,
 *     u32 n + str mx hosts, u64 success, u64 failure, u32 n_details, each:
 *       u8 result, 6 x ostr fields, u64 count
 *   str: u32 length + bytes; ostr: same, length 0xffffffff means NULL.
 */
#define IMAGE_MAGIC     "TRPTAGG\n"
#define IMAGE_MAGIC_LEN 8
#define IMAGE_VERSION   1
#define IMAGE_HEADER    (IMAGE_MAGIC_LEN + 4 + 4 + 8)
#define IMAGE_NULL_STR  0xffffffffU
#define IMAGE_MAX_STR   (1U << 20)

static int put_u8(trpt_buf *b, unsigned v)
{
    unsigned char c = (unsigned char)v;

    return trpt_buf_append(b, &c, 1);
}

static int put_u32(trpt_buf *b, uint32_t v)
{
    unsigned char c[4];

    for (int i = 0; i < 4; i++)
        c[i] = (unsigned char)(v >> (8 * i));
    return trpt_buf_append(b, c, 4);
}

static int put_u64(trpt_buf *b, uint64_t v)
{
    unsigned char c[8];

    for (int i = 0; i < 8; i++)
        c[i] = (unsigned char)(v >> (8 * i));
    return trpt_buf_append(b, c, 8);
}

static int put_ostr(trpt_buf *b, const char *s)
{
    size_t len;
    int rc;

    if (!s)
        return put_u32(b, IMAGE_NULL_STR);
    len = strlen(s);
    if (len > IMAGE_MAX_STR)
        return -E2BIG;
    if ((rc = put_u32(b, (uint32_t)len)) < 0)
        return rc;
    return trpt_buf_append(b, s, len);
}

static int put_vec(trpt_buf *b, const char *const *v, size_t n)
{
    int rc = put_u32(b, (uint32_t)n);

    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = put_ostr(b, v[i]);
    return rc;
}

/* ------------------------------------------------------- image: save */

static int source_name_cmp(const void *pa, const void *pb)
{
    const agg_source *a = *(const agg_source *const *)pa;
    const agg_source *b = *(const agg_source *const *)pb;

    return strcmp(a->name, b->name);
}

static int save_sources(const trpt_agg *a, trpt_buf *b)
{
    agg_source **v = calloc(a->sources.n + 1, sizeof(*v));
    size_t k = 0;
    int rc;

    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < a->sources.cap; i++)
        if (a->sources.slots[i].item)
            v[k++] = a->sources.slots[i].item;
    qsort(v, k, sizeof(*v), source_name_cmp);
    rc = put_u32(b, (uint32_t)k);
    for (size_t i = 0; rc == 0 && i < k; i++) {
        if ((rc = put_ostr(b, v[i]->name)) == 0 &&
            (rc = put_u8(b, v[i]->marked)) == 0 &&
            (rc = put_u64(b, v[i]->offset)) == 0)
            rc = put_u32(b, v[i]->sub);
    }
    free(v);
    return rc;
}

static int save_fail(trpt_buf *b, const agg_fail *x)
{
    int rc = put_u8(b, (unsigned)x->result);

    for (int i = 0; rc == 0 && i < N_DETAIL_FIELDS; i++)
        rc = put_ostr(b, x->f[i]);
    return rc ? rc : put_u64(b, x->count);
}

static int save_entry(trpt_buf *b, const agg_entry *e, agg_fail **fails)
{
    int rc;

    if ((rc = put_ostr(b, e->info->domain)) < 0 ||
        (rc = put_ostr(b, e->info->record)) < 0 ||
        (rc = put_u8(b, (unsigned)e->info->type)) < 0 ||
        (rc = put_vec(b, e->info->strings, e->info->n_strings)) < 0 ||
        (rc = put_vec(b, e->info->mx, e->info->n_mx)) < 0 ||
        (rc = put_u64(b, e->success)) < 0 ||
        (rc = put_u64(b, e->failure)) < 0 ||
        (rc = put_u32(b, (uint32_t)e->info->n_fails)) < 0)
        return rc;
    sorted_fails(e, fails);
    for (size_t i = 0; rc == 0 && i < e->info->n_fails; i++)
        rc = save_fail(b, fails[i]);
    return rc;
}

static int save_day(trpt_buf *b, const agg_day *d)
{
    agg_entry **v = NULL;
    agg_fail **fails = NULL;
    size_t n = d->entries.n;
    int rc;

    if ((rc = sorted_entries(d, &v)) < 0)
        return rc;
    fails = calloc(n ? max_fails(v, n) + 1 : 1, sizeof(*fails));
    if (!fails)
        rc = -ENOMEM;
    if (rc == 0 && (rc = put_u64(b, (uint64_t)d->day)) == 0)
        rc = put_u32(b, (uint32_t)n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = save_entry(b, v[i], fails);
    free(fails);
    free(v);
    return rc;
}

static int save_payload(const trpt_agg *a, trpt_buf *b)
{
    size_t n_days = 0;
    int rc;

    if ((rc = put_u64(b, a->stats.records)) < 0 ||
        (rc = put_u64(b, a->stats.duplicates)) < 0 ||
        (rc = put_u64(b, a->stats.excluded)) < 0 ||
        (rc = put_u64(b, a->stats.invalid)) < 0 ||
        (rc = save_sources(a, b)) < 0)
        return rc;
    for (size_t i = 0; i < a->n_days; i++)
        n_days += a->days[i]->entries.n > 0;
    rc = put_u32(b, (uint32_t)n_days);
    for (size_t i = 0; rc == 0 && i < a->n_days; i++)
        if (a->days[i]->entries.n)
            rc = save_day(b, a->days[i]);
    return rc;
}

static void poke_u32(char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (char)(unsigned char)(v >> (8 * i));
}

static void poke_u64(char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (char)(unsigned char)(v >> (8 * i));
}

int trpt_agg_save(const trpt_agg *a, trpt_buf *out)
{
    size_t start, payload;
    char *hdr;
    uLong crc;
    int rc;

    if (!a || !out)
        return -EINVAL;
    start = out->len;
    if ((rc = trpt_buf_append(out, IMAGE_MAGIC, IMAGE_MAGIC_LEN)) < 0 ||
        (rc = put_u32(out, IMAGE_VERSION)) < 0 || (rc = put_u32(out, 0)) < 0 ||
        (rc = put_u64(out, 0)) < 0 || (rc = save_payload(a, out)) < 0) {
        out->len = start; /* leave out as it was */
        if (out->data)
            out->data[start] = '\0';
        return rc;
    }
    hdr = out->data + start;
    payload = out->len - start - IMAGE_HEADER;
    crc = crc32_z(0L, (const Bytef *)hdr + IMAGE_HEADER, payload);
    poke_u32(hdr + IMAGE_MAGIC_LEN + 4, (uint32_t)crc);
    poke_u64(hdr + IMAGE_MAGIC_LEN + 8, (uint64_t)payload);
    return 0;
}

/* ------------------------------------------------------- image: load */

/* A cursor over untrusted bytes; any overrun sets bad and yields zeros. */
typedef struct reader {
    const unsigned char *p;
    size_t left;
    bool bad;
} reader;

static const unsigned char *take(reader *rd, size_t n)
{
    const unsigned char *p;

    if (rd->bad || rd->left < n) {
        rd->bad = true;
        return NULL;
    }
    p = rd->p;
    rd->p += n;
    rd->left -= n;
    return p;
}

static uint64_t get_le(reader *rd, int bytes)
{
    const unsigned char *p = take(rd, (size_t)bytes);
    uint64_t v = 0;

    for (int i = 0; p && i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Reads an optional string (in place; p NULL for NULL). Refuses embedded
 * NUL bytes: they would silently truncate, and keys rely on their absence. */
static int get_ostr(reader *rd, trpt_sv *out, bool nullable)
{
    uint32_t len = (uint32_t)get_le(rd, 4);
    const unsigned char *p;

    *out = (trpt_sv){NULL, 0};
    if (rd->bad)
        return -EBADMSG;
    if (len == IMAGE_NULL_STR)
        return nullable ? 0 : -EBADMSG;
    if (len > IMAGE_MAX_STR || !(p = take(rd, len)) || memchr(p, 0, len))
        return -EBADMSG;
    *out = (trpt_sv){(const char *)p, len};
    return 0;
}

static int get_vec(reader *rd, trpt_sv **out, size_t *n)
{
    uint32_t k = (uint32_t)get_le(rd, 4);
    trpt_sv *v;
    int rc = 0;

    *out = NULL;
    *n = 0;
    /* each element takes at least 4 bytes: bounds the allocation */
    if (rd->bad || k > rd->left / 4)
        return -EBADMSG;
    if (!k)
        return 0;
    if (!(v = calloc(k, sizeof(*v))))
        return -ENOMEM;
    for (uint32_t i = 0; rc == 0 && i < k; i++)
        rc = get_ostr(rd, &v[i], false);
    if (rc < 0) {
        free(v);
        return rc;
    }
    *out = v;
    *n = k;
    return 0;
}

static int add_count(uint64_t *dst, uint64_t v)
{
    if (*dst > UINT64_MAX - v)
        return -EBADMSG;
    *dst += v;
    return 0;
}

static int load_fail(reader *rd, trpt_agg *a, agg_day *d, agg_entry *e,
                     uint64_t *sum)
{
    unsigned result = (unsigned)get_le(rd, 1);
    trpt_sv f[N_DETAIL_FIELDS];
    uint64_t count;
    agg_fail *x;
    int rc = 0;

    if (rd->bad || result == TRPT_RESULT_SUCCESS || result >= TRPT_RESULT_COUNT)
        return -EBADMSG;
    for (int i = 0; rc == 0 && i < N_DETAIL_FIELDS; i++)
        rc = get_ostr(rd, &f[i], true);
    count = get_le(rd, 8);
    if (rc < 0 || rd->bad)
        return rc < 0 ? rc : -EBADMSG;
    if (!(x = fail_get(a, d, e, (trpt_result)result, f)))
        return -ENOMEM;
    if (add_count(&x->count, count) < 0)
        return -EBADMSG;
    return add_count(sum, count);
}

static int load_entry_counts(reader *rd, trpt_agg *a, agg_day *d, agg_entry *e)
{
    uint64_t success = get_le(rd, 8), failure = get_le(rd, 8), sum = 0;
    uint32_t n = (uint32_t)get_le(rd, 4);
    int rc = 0;

    /* a detail takes at least 1 + 6 * 4 + 8 bytes */
    if (rd->bad || n > rd->left / 33)
        return -EBADMSG;
    for (uint32_t i = 0; rc == 0 && i < n; i++)
        rc = load_fail(rd, a, d, e, &sum);
    if (rc < 0)
        return rc;
    if (sum != failure) /* the totals must add up (RFC 8460 §4.4 summary) */
        return -EBADMSG;
    if (add_count(&e->success, success) < 0)
        return -EBADMSG;
    return add_count(&e->failure, failure);
}

static int load_entry(reader *rd, trpt_agg *a, agg_day *d)
{
    trpt_sv *strings = NULL, *mx = NULL;
    entry_key k = {0};
    unsigned type;
    agg_entry *e;
    int rc;

    if ((rc = get_ostr(rd, &k.domain, false)) < 0 ||
        (rc = get_ostr(rd, &k.record, true)) < 0)
        return rc;
    type = (unsigned)get_le(rd, 1);
    if (rd->bad || type == TRPT_POLICY_UNKNOWN || type >= TRPT_POLICY_COUNT)
        return -EBADMSG;
    k.type = (trpt_policy_type)type;
    if ((rc = get_vec(rd, &strings, &k.n_strings)) == 0 &&
        (rc = get_vec(rd, &mx, &k.n_mx)) == 0) {
        k.strings = strings;
        k.mx = mx;
        e = entry_get(a, d, &k);
        rc = e ? load_entry_counts(rd, a, d, e) : -ENOMEM;
    }
    free(strings);
    free(mx);
    return rc;
}

static int load_day(reader *rd, trpt_agg *a)
{
    int64_t day = (int64_t)get_le(rd, 8);
    uint32_t n = (uint32_t)get_le(rd, 4);
    agg_day *d;
    int rc = 0;

    /* an entry takes at least 4 + 4 + 1 + 4 + 4 + 8 + 8 + 4 bytes */
    if (rd->bad || n == 0 || n > rd->left / 37)
        return -EBADMSG;
    if (day_find(a, day, NULL)) /* each day once, in order */
        return -EBADMSG;
    if (a->n_days && a->days[a->n_days - 1]->day > day)
        return -EBADMSG;
    if (!(d = day_get(a, day)))
        return -ENOMEM;
    for (uint32_t i = 0; rc == 0 && i < n; i++)
        rc = load_entry(rd, a, d);
    return rc;
}

static int load_sources(reader *rd, trpt_agg *a)
{
    uint32_t n = (uint32_t)get_le(rd, 4);
    agg_source *s;
    size_t before;

    if (rd->bad || n > rd->left / 17)
        return -EBADMSG;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t len = (uint32_t)get_le(rd, 4);
        const unsigned char *p;

        if (rd->bad || len > IMAGE_MAX_STR || !(p = take(rd, len)) ||
            memchr(p, 0, len))
            return -EBADMSG;
        before = a->sources.n;
        if (!(s = source_get(a, (const char *)p, len)))
            return -ENOMEM;
        if (a->sources.n == before) /* the same source twice */
            return -EBADMSG;
        s->marked = get_le(rd, 1) != 0;
        s->offset = get_le(rd, 8);
        s->sub = (unsigned)get_le(rd, 4);
        if (rd->bad)
            return -EBADMSG;
    }
    return 0;
}

static int load_payload(reader *rd, trpt_agg *a)
{
    uint32_t n_days;
    int rc;

    a->stats.records = get_le(rd, 8);
    a->stats.duplicates = get_le(rd, 8);
    a->stats.excluded = get_le(rd, 8);
    a->stats.invalid = get_le(rd, 8);
    if (rd->bad)
        return -EBADMSG;
    if ((rc = load_sources(rd, a)) < 0)
        return rc;
    n_days = (uint32_t)get_le(rd, 4);
    if (rd->bad)
        return -EBADMSG;
    for (uint32_t i = 0; i < n_days; i++)
        if ((rc = load_day(rd, a)) < 0)
            return rc;
    return rd->left ? -EBADMSG : 0; /* trailing bytes: not ours */
}

/* Checks magic, version, length and checksum; sets the payload reader. */
static int load_header(const char *data, size_t len, reader *rd)
{
    reader h = {(const unsigned char *)data, len, false};
    uint32_t version, crc;
    uint64_t payload;

    if (len < IMAGE_HEADER || memcmp(data, IMAGE_MAGIC, IMAGE_MAGIC_LEN))
        return -EBADMSG;
    take(&h, IMAGE_MAGIC_LEN);
    version = (uint32_t)get_le(&h, 4);
    crc = (uint32_t)get_le(&h, 4);
    payload = get_le(&h, 8);
    if (version > IMAGE_VERSION)
        return -EPROTO;
    if (version != IMAGE_VERSION || payload != h.left)
        return -EBADMSG;
    if ((uint32_t)crc32_z(0L, h.p, h.left) != crc)
        return -EBADMSG;
    *rd = h;
    return 0;
}

static void agg_clear(trpt_agg *a)
{
    for (size_t i = 0; i < a->n_days; i++)
        day_free(a->days[i]);
    free(a->days);
    a->days = NULL;
    a->n_days = a->cap_days = 0;
    a->last = NULL;
    a->decoded = false;
    sources_free(a);
    memset(&a->stats, 0, sizeof(a->stats));
}

/* Loads into a fresh aggregator and swaps it in only when all is well, so
 * a refused image leaves the current contents untouched. */
int trpt_agg_load(trpt_agg *a, const char *data, size_t len)
{
    trpt_agg *fresh;
    reader rd;
    int rc;

    if (!a || (!data && len))
        return -EINVAL;
    if ((rc = load_header(data, len, &rd)) < 0)
        return rc;
    if ((rc = trpt_agg_new(&fresh, a->cfg)) < 0)
        return rc;
    if ((rc = load_payload(&rd, fresh)) < 0) {
        trpt_agg_free(fresh);
        return rc;
    }
    agg_clear(a);
    a->days = fresh->days;
    a->n_days = fresh->n_days;
    a->cap_days = fresh->cap_days;
    a->sources = fresh->sources;
    a->stats = fresh->stats;
    fresh->days = NULL;
    fresh->n_days = fresh->cap_days = 0;
    memset(&fresh->sources, 0, sizeof(fresh->sources));
    fresh->last_source = NULL;
    trpt_agg_free(fresh);
    return 0;
}

void trpt_agg_free(trpt_agg *a)
{
    if (!a)
        return;
    agg_clear(a);
    trpt_record_view_free(&a->view);
    for (size_t i = 0; a->batch && i < TRPT_AGG_BATCH; i++)
        trpt_record_view_free(&a->batch[i]);
    free(a->batch);
    free(a->key);
    free(a->hint_strings.v);
    free(a->hint_mx.v);
    free(a);
}
